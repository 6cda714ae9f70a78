// Image names and labels of the images Ancla builds (pure): `ancla/<org>/<project>/<env>/<service>:v<N>`.
// Before this form, names were `ancla/<org>-<project>-<env>-<service>`: slugs contain `-`, so two
// services could share a repository. Each image row records the repository it was built under
// (`images.repository_name`) and every later use (deploy, retention, removal) reads it from the row.
export type ServiceNames = { org: string; project: string; env: string; service: string };

export const MANAGED_LABEL = "dev.ancla.managed";
export const LABEL = {
  org: "dev.ancla.org",
  project: "dev.ancla.project",
  env: "dev.ancla.env",
  service: "dev.ancla.service",
  version: "dev.ancla.version",
} as const;

/**
 * `ancla/<org>/<project>/<env>/<service>`: one path component per slug. Slugs are lowercase DNS
 * labels without `/`, so the name is a valid repository (locally and in a registry) and two
 * services never share one. For new builds only: an existing image's name is on its row.
 */
export const repositoryName = (n: ServiceNames): string => `ancla/${n.org}/${n.project}/${n.env}/${n.service}`;
export const versionTag = (version: number): string => `v${version}`;
export const imageReference = (n: ServiceNames, version: number): string => `${repositoryName(n)}:${versionTag(version)}`;

// The legacy builder turns every label into its own LABEL step (a container and a commit each), so
// images carry only these six; the service is identified by its org/project/env/service slugs.
export function imageLabels(n: ServiceNames, version: number): Record<string, string> {
  return {
    [MANAGED_LABEL]: "true",
    [LABEL.org]: n.org,
    [LABEL.project]: n.project,
    [LABEL.env]: n.env,
    [LABEL.service]: n.service,
    [LABEL.version]: String(version),
  };
}

/** Whether image labels say the platform built this image for this service. */
export const isServiceImage = (labels: Record<string, string> | null | undefined, n: ServiceNames): boolean =>
  !!labels &&
  labels[MANAGED_LABEL] === "true" &&
  labels[LABEL.org] === n.org &&
  labels[LABEL.project] === n.project &&
  labels[LABEL.env] === n.env &&
  labels[LABEL.service] === n.service;
