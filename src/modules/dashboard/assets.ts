// The embedded dashboard files, loaded once on first use. A checkout where scripts/gen-assets.ts
// has not run yet gets an explicit "not built" page instead of a crash.
export type Asset = { file: string; type: string; immutable: boolean };
export type AssetTable = Record<string, Asset> | null;

let loading: Promise<AssetTable> | undefined;

export function loadAssets(): Promise<AssetTable> {
  // a static specifier, so `bun build --compile` bundles the generated file and its imports
  loading ??= import("../../web-assets.gen").then(
    (m) => m.assets,
    () => null,
  );
  return loading;
}
