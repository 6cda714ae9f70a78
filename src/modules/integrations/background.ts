// What `ancla serve` runs for the integrations: the registry signing key made at the first start
// (not at the first docker login), and the preview sweeper.
import type { Deps } from "../../deps";
import { startPreviewSweeper } from "./previews";
import { signingKey } from "./signing-key";

export function startIntegrations(deps: Deps): { stop: () => Promise<void> } {
  void signingKey(deps).catch((e) => deps.logger.warn("the registry signing key could not be prepared", { error: (e as Error).message }));
  return startPreviewSweeper(deps);
}
