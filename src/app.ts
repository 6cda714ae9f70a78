// createApp(deps): the HTTP application with every module's routes mounted at once (tests, the
// OpenAPI document); the global hooks are app-core.ts's. `ancla serve` mounts the same groups on
// first use instead (route-groups.ts). No listen here.
import { JSON_LIMIT } from "./lib/body-limit";
import { createCore } from "./app-core";
import type { Deps } from "./deps";
import { authRoutes } from "./modules/auth";
import { keyRoutes } from "./modules/keys";
import { adminRoutes } from "./modules/admin";
import { orgRoutes } from "./modules/orgs";
import { teamRoutes } from "./modules/teams";
import { projectRoutes } from "./modules/projects";
import { envRoutes } from "./modules/envs";
import { serviceRoutes } from "./modules/services";
import { applicationRoutes } from "./modules/applications";
import { execRoutes } from "./modules/exec";
import { configRoutes } from "./modules/config-vars";
import { integrationRoutes } from "./modules/integrations";
import { docsRoutes, openapiPlugin, type SpecSource } from "./modules/docs";
import { cliAuthRoutes } from "./modules/cli-auth";
import { dashboardRoutes } from "./modules/dashboard";
import { imageRoutes } from "./modules/images";
import { releaseRoutes } from "./modules/releases";
import { deploymentRoutes } from "./modules/deployments";
import { pipelineRoutes } from "./modules/pipeline";
import { activityRoutes } from "./modules/pipeline/activity";
import { passwordRoutes } from "./modules/auth/password";
import { promotionRoutes } from "./modules/promotions";
import { logRoutes } from "./modules/logs";
import { wireModules } from "./modules/wiring";
import { observabilityRoutes } from "./modules/observability";
import { opsRoutes } from "./modules/ops";
import { backupRoutes } from "./modules/backups";

export { JSON_LIMIT };

export function createApp(deps: Deps) {
  wireModules(); // job handlers and cross-module hooks, once per process
  const self: { app?: SpecSource } = {}; // the spec route reads the finished app lazily
  const app = createCore(deps)
    .use(openapiPlugin())
    .use(docsRoutes(() => self.app!))
    .use(integrationRoutes(deps))
    .use(authRoutes(deps))
    .use(passwordRoutes(deps))
    .use(cliAuthRoutes(deps))
    .use(keyRoutes(deps))
    .use(adminRoutes(deps))
    .use(orgRoutes(deps))
    .use(teamRoutes(deps))
    .use(projectRoutes(deps))
    .use(envRoutes(deps))
    .use(serviceRoutes(deps))
    .use(applicationRoutes(deps))
    .use(configRoutes(deps))
    .use(imageRoutes(deps))
    .use(releaseRoutes(deps))
    .use(deploymentRoutes(deps))
    .use(pipelineRoutes(deps))
    .use(activityRoutes(deps))
    .use(promotionRoutes(deps))
    .use(logRoutes(deps))
    .use(execRoutes(deps))
    .use(observabilityRoutes(deps))
    .use(opsRoutes(deps))
    .use(backupRoutes(deps))
    .use(dashboardRoutes(deps)); // last: its catch-all serves the SPA for non-API paths
  self.app = app as unknown as SpecSource;
  return app;
}

export type App = ReturnType<typeof createApp>;
