// Which config variables reach `docker build` as build args (pure).
export type BuildVar = { name: string; value: string; secret: boolean; buildtime: boolean };

/** Non-secret buildtime vars become build args; secret buildtime vars are withheld (names only). */
export function buildArgs(vars: BuildVar[]): { args: Record<string, string>; withheld: string[] } {
  const args: Record<string, string> = {};
  const withheld: string[] = [];
  for (const v of vars) {
    if (!v.buildtime) continue;
    if (v.secret) withheld.push(v.name);
    else args[v.name] = v.value;
  }
  return { args, withheld: withheld.sort() };
}
