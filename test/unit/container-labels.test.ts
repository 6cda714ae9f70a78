// --container-labels / ANCLA_CONTAINER_LABELS: labels every container and network of this server
// carries besides Ancla's own (tests put their run id here; nothing in src reads test settings).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { ZodError } from "zod";
import { loadServeConfig, serveConfigSchema } from "../../src/config";
import { networkSpec, replicaSpec, type ReplicaSpecInput } from "../../src/targets/docker/specs";

setDefaultTimeout(120_000);

describe("the container labels setting", () => {
  test("flag, environment and object forms; none by default", () => {
    expect(loadServeConfig({ "container-labels": "dev.ancla.test-run=t123, team=blue" }, {}).containerLabels).toEqual({ "dev.ancla.test-run": "t123", team: "blue" });
    expect(loadServeConfig({}, { ANCLA_CONTAINER_LABELS: "com.example/owner=ops" }).containerLabels).toEqual({ "com.example/owner": "ops" });
    expect(serveConfigSchema.parse({ containerLabels: { a: "1" } }).containerLabels).toEqual({ a: "1" });
    expect(loadServeConfig({}, {}).containerLabels).toEqual({});
    expect(loadServeConfig({ "container-labels": "empty=" }, {}).containerLabels).toEqual({ empty: "" });
  });

  test("malformed pairs are refused with the rule", () => {
    for (const bad of ["novalue", "=x", "-lead=x", "sp ace=x", `k=${"v".repeat(257)}`]) {
      expect(() => loadServeConfig({ "container-labels": bad }, {})).toThrow(ZodError);
    }
    try {
      loadServeConfig({}, { ANCLA_CONTAINER_LABELS: "oops" });
    } catch (e) {
      expect((e as ZodError).issues[0]!.message).toContain("key=value pairs");
    }
  });

  test("they reach containers and networks; Ancla's own labels win", () => {
    const input: ReplicaSpecInput = {
      org: "acme", project: "web", env: "production", service: "api", serviceId: "s1", releaseId: "r1", releaseVersion: 1, deploymentId: "d1",
      process: "web", replica: 1, image: "img", command: null, vars: {}, port: 8000, podClass: "small", privileged: false, network: "ancla-acme-web",
      labels: { team: "blue", "dev.ancla.org": "spoofed" },
    };
    expect(replicaSpec(input).Labels).toMatchObject({ team: "blue", "dev.ancla.org": "acme" });
    expect(networkSpec({ org: "acme", project: "web", projectId: "p1" }, { team: "blue", "dev.ancla.project-id": "spoofed" }).Labels).toMatchObject({ team: "blue", "dev.ancla.managed": "true", "dev.ancla.project-id": "p1" });
  });
});
