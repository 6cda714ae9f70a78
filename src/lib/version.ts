// The version this build reports (CLI, /api/v1/status, backup manifests): package.json's, embedded at build time.
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
