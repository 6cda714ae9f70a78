// A call a lower module makes and a higher one answers (a lower module never imports a higher
// one): the higher module's function is put in the slot once, when the modules are wired
// (modules/wiring.ts), and read on every call. Code, not state: one slot serves every server.
export type HookSlot<T> = { set: (impl: T) => void; get: () => T };

export function hookSlot<T>(name: string): HookSlot<T> {
  let impl: T | undefined;
  return {
    set: (h) => {
      impl = h;
    },
    get: () => {
      if (!impl) throw new Error(`the ${name} hooks are not wired: call wireModules() (src/modules/wiring.ts) first`);
      return impl;
    },
  };
}
