// The race preview removal used to retry around, end to end: a service's replicas are torn down
// while its rows stay (a preview is removed rows last), so to the self-healing pass that follows
// every replica looks crashed. The pass is driven here (the background loop is paused, so nothing
// depends on timing): it tries to bring the replica back, is refused, and nothing of the service
// is left on the engine — the service's image can go at once.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { deployHarness, type DeployHarness } from "../fixtures/webapp/support";
import { testDocker } from "../support/docker";
import type { AppRouter } from "../../src/modules/deployments/serve";
import { reconcileService, type PassHooks } from "../../src/modules/deployments/reconcile";
import { replicaViews } from "../../src/modules/deployments/replicas";
import { teardownService } from "../../src/modules/deployments/routing";
import { findEnvById } from "../../src/modules/envs/repo";
import { findServiceById } from "../../src/modules/services/repo";
import { rejectionOf } from "../support/settle";

// a Docker build and rollout outlast bun's 5 s default
setDefaultTimeout(300_000);

let h: DeployHarness;
let appId: string;

beforeAll(async () => {
  h = await deployHarness("tdh");
  appId = await h.service("app", { process_counts: { web: 1 }, deployment_timeout: 60 });
  await h.build("app");
  expect((await h.deploy((await h.release(appId)).release_id)).status).toBe("complete");
});

afterAll(async () => {
  await h?.close();
});

const containersOf = async (serviceId: string) => (await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${serviceId}`] } })).map((c) => c.Id);

test("a service torn down with its rows kept: the next self-healing pass brings nothing back and no container holds its image", async () => {
  expect(await containersOf(appId)).toHaveLength(1);
  // only the pass driven below runs (the loop would otherwise race it to the same replica)
  await (h.router as AppRouter).pauseBackground();
  const service = findServiceById(h.t.deps.db, appId)!;
  await teardownService(h.t.deps, findEnvById(h.t.deps.db, service.envId), appId);
  expect(await containersOf(appId)).toEqual([]);

  const heals: Promise<unknown>[] = [];
  const warnings: string[] = [];
  const hooks: PassHooks = {
    request: () => {},
    warn: (m, f) => void warnings.push(`${m}: ${String(f.error)}`),
    info: () => {},
    signal: new AbortController().signal,
    track: (work) => void heals.push(work),
  };
  await reconcileService(h.t.deps, hooks, appId);
  // the pass saw the replica gone and tried to bring it back
  expect(heals).toHaveLength(1);
  await Promise.allSettled(heals);
  expect(warnings).toEqual(["replica could not be brought back; retrying with backoff: The service is being removed: nothing more of it is started."]);
  expect(await containersOf(appId)).toEqual([]);
  expect(replicaViews(h.t.deps, appId)).toEqual([expect.objectContaining({ process: "web", replica: 1, in_rotation: false, last_error: "The service is being removed: nothing more of it is started." })]);

  // the next attempt (after the first backoff step, 1 s) is refused the same way: shown on the
  // replica still, not warned again (it would be every minute for as long as the rows stay)
  await Bun.sleep(1100);
  await reconcileService(h.t.deps, hooks, appId);
  expect(heals).toHaveLength(2);
  await Promise.allSettled(heals);
  expect(warnings).toHaveLength(1);
  expect(await containersOf(appId)).toEqual([]);
  expect(replicaViews(h.t.deps, appId)).toEqual([expect.objectContaining({ in_rotation: false, last_error: "The service is being removed: nothing more of it is started." })]);

  // nothing uses the service's image any more: it is removed without force
  const image = (await testDocker().listImages({ filters: { label: [`dev.ancla.org=${h.org}`] } }))[0]!;
  await testDocker().getImage(image.Id).remove({ force: false });
  await rejectionOf(testDocker().getImage(image.Id).inspect());
});
