// Shape of the generated src/web-assets.gen.ts, used by the type checker when the file has not
// been generated yet (a fresh checkout): `bun scripts/gen-assets.ts` writes the real one.
declare module "*/web-assets.gen" {
  export const assets: Record<string, { file: string; type: string; immutable: boolean }>;
}
