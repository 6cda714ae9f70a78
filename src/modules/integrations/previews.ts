// Preview environments for pull requests (issue 13 part 2).
import type { Deps } from "../../deps";
import type { EventFields, ProjectOutcome } from "./webhooks";

export function handlePullRequest(_deps: Deps, _projectId: string, _services: unknown[], _f: EventFields): ProjectOutcome {
  return { status: "ignored", message: "Previews are not enabled for this project.", pipelineIds: [] };
}
