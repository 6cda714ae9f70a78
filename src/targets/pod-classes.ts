// Pod classes (SPEC §2): the CPU and memory a replica of each class gets, on every target — Docker
// limits, Kubernetes requests and limits.
export const POD_CLASSES = {
  nano: { cpus: 0.25, memoryMiB: 256 },
  small: { cpus: 0.5, memoryMiB: 512 },
  medium: { cpus: 1, memoryMiB: 1024 },
  large: { cpus: 2, memoryMiB: 2048 },
} as const;
export type PodClass = keyof typeof POD_CLASSES;
export const DEFAULT_POD_CLASS: PodClass = "small";
