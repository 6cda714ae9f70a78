// modules/wiring.ts is the one place job handlers and cross-module hooks are registered: a test
// (or a command) that uses a service without building the app gets them by calling wireModules().
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { jobHandler } from "../../src/jobs/queue";
import { wireModules } from "../../src/modules/wiring";
import { projectHooks } from "../../src/modules/projects/hooks";
import { envHooks } from "../../src/modules/envs/hooks";
import { serviceHooks } from "../../src/modules/services/hooks";
import { imageHooks } from "../../src/modules/images/hooks";

setDefaultTimeout(120_000);

describe("wireModules", () => {
  test("registers every job kind and answers every hook; calling it again changes nothing", () => {
    wireModules();
    const handlers = ["build", "deploy", "pipeline"].map((kind) => jobHandler(kind));
    for (const h of handlers) expect(typeof h?.run).toBe("function");
    for (const h of handlers) expect(typeof h?.onInterrupted).toBe("function");
    expect(Object.keys(projectHooks.get()).sort()).toEqual(["created", "deleting", "leaving"]);
    expect(Object.keys(envHooks.get()).sort()).toEqual(["deleting", "servicesRemoved"]);
    expect(Object.keys(imageHooks.get())).toEqual(["gitAuth"]);
    expect(Object.keys(serviceHooks.get()).sort()).toEqual(["deleting", "latest", "latestVersions", "processTypes", "replicas", "scaled", "volumesRemoved"]);
    wireModules();
    expect(["build", "deploy", "pipeline"].map((kind) => jobHandler(kind))).toEqual(handlers);
  });
});
