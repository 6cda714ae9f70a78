// The labels every target puts on what it creates (containers, volumes, networks, Kubernetes
// objects): one vocabulary, so an operator's `docker ps --filter` and `kubectl -l` read alike and
// ownership checks (a volume or claim of another service is never reused) mean the same everywhere.
export const LABEL = {
  managed: "dev.ancla.managed",
  org: "dev.ancla.org",
  project: "dev.ancla.project",
  /** Docker: the project a network is for (its name is made from this id) */
  projectId: "dev.ancla.project-id",
  env: "dev.ancla.env",
  service: "dev.ancla.service",
  serviceId: "dev.ancla.service-id",
  release: "dev.ancla.release",
  version: "dev.ancla.version",
  process: "dev.ancla.process",
  /** Docker: a replica's slot number */
  replica: "dev.ancla.replica",
  deployment: "dev.ancla.deployment",
  podClass: "dev.ancla.pod-class",
  /** Kubernetes: what an object is for: config, registry, process, web, volume, one-off */
  role: "dev.ancla.role",
  // one-off containers and Jobs (release phase, runs) are not replicas: no `managed` label, so
  // neither a rollout's cleanup nor the self-healing loop ever touches them
  oneOff: "dev.ancla.one-off",
  oneOffService: "dev.ancla.one-off-service-id",
  runId: "dev.ancla.run-id",
  // volumes: whose they are (a volume left by a deleted service is never handed to another one)
  volume: "dev.ancla.volume",
} as const;
