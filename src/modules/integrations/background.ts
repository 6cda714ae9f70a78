// What `ancla serve` runs for the integrations: the registry signing key made at the first start
// (not at the first docker login), and the preview sweeper. The key's module (and the X.509
// library behind it) is loaded only when the key is still missing: a restart with the key stored
// loads neither (they are loaded again at the first docker login).
import type { Deps } from "../../deps";
import { startPreviewSweeper } from "./previews";
import { findSigningKey } from "./repo";

export function startIntegrations(deps: Deps): { stop: () => Promise<void> } {
  if (!findSigningKey(deps.db)) {
    void import("./signing-key")
      .then(({ signingKey }) => signingKey(deps))
      .catch((e) => deps.logger.warn("the registry signing key could not be prepared", { error: (e as Error).message }));
  }
  return startPreviewSweeper(deps);
}
