import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { injectedDockerignore, labelledDockerfile } from "../../src/targets/docker/dockerfile-labels";
import { imageLabels, imageReference, isServiceImage, repositoryName } from "../../src/lib/image-names";
import { buildArgs } from "../../src/modules/images/build-args";
import { gitCloneCommands, gitSourceUrl } from "../../src/lib/git";
import { imagesToPrune } from "../../src/modules/images/retention";
import { parseBuildLine } from "../../src/targets/docker/build-progress";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(120_000);

const names = { org: "acme", project: "web", env: "production", service: "api" };

describe("names and labels", () => {
  test("repository and tag", () => {
    expect(repositoryName(names)).toBe("ancla/acme/web/production/api");
    expect(imageReference(names, 7)).toBe("ancla/acme/web/production/api:v7");
    // slugs contain `-`: joined with `-`, org a / project b-c and org a-b / project c shared a name
    expect(repositoryName({ org: "a", project: "b-c", env: "e", service: "s" })).not.toBe(repositoryName({ org: "a-b", project: "c", env: "e", service: "s" }));
  });
  test("labels carry the hierarchy, the version and the managed marker", () => {
    expect(imageLabels(names, 3)).toEqual({
      "dev.ancla.managed": "true",
      "dev.ancla.org": "acme",
      "dev.ancla.project": "web",
      "dev.ancla.env": "production",
      "dev.ancla.service": "api",
      "dev.ancla.version": "3",
    });
    expect(isServiceImage(imageLabels(names, 3), names)).toBe(true);
    expect(isServiceImage(imageLabels({ ...names, env: "staging" }, 3), names)).toBe(false);
    expect(isServiceImage({ ...imageLabels(names, 3), "dev.ancla.managed": "false" }, names)).toBe(false);
    expect(isServiceImage(null, names)).toBe(false);
  });
});

describe("build args", () => {
  test("only buildtime vars; secrets withheld by name", () => {
    const r = buildArgs([
      { name: "NODE_ENV", value: "production", secret: false, buildtime: true },
      { name: "RUNTIME_ONLY", value: "x", secret: false, buildtime: false },
      { name: "NPM_TOKEN", value: "s3cret", secret: true, buildtime: true },
      { name: "DB_PASSWORD", value: "p", secret: true, buildtime: false },
    ]);
    expect(r).toEqual({ args: { NODE_ENV: "production" }, withheld: ["NPM_TOKEN"] });
    expect(JSON.stringify(r)).not.toContain("s3cret");
  });
});

describe("git", () => {
  test("git_url wins over github_repository", () => {
    expect(gitSourceUrl({ gitUrl: "file:///tmp/r", githubRepository: "o/n" })).toBe("file:///tmp/r");
    expect(gitSourceUrl({ gitUrl: null, githubRepository: "o/n" })).toBe("https://github.com/o/n.git");
    expect(gitSourceUrl({ gitUrl: null, githubRepository: null })).toBeNull();
  });
  test("branch clone vs commit fetch, always with -- before the URL", () => {
    expect(gitCloneCommands("file:///r", "main", "/d")).toEqual([["git", "clone", "-q", "--depth", "1", "--branch", "main", "--", "file:///r", "/d"]]);
    expect(gitCloneCommands("file:///r", null, "/d")).toEqual([["git", "clone", "-q", "--depth", "1", "--", "file:///r", "/d"]]);
    const sha = "0123456789abcdef0123456789abcdef01234567";
    const cmds = gitCloneCommands("file:///r", sha, "/d");
    expect(cmds[1]).toEqual(["git", "-C", "/d", "fetch", "-q", "--depth", "1", "--", "file:///r", sha]);
    expect(cmds[2]).toEqual(["git", "-C", "/d", "checkout", "-q", "--detach", "FETCH_HEAD"]);
  });
});

describe("parseBuildLine", () => {
  test("steps, intermediate containers, built id, errors", () => {
    expect(parseBuildLine(JSON.stringify({ stream: "Step 2/5 : RUN echo hi\n" }))).toEqual([
      { kind: "log", text: "Step 2/5 : RUN echo hi" },
      { kind: "step", index: 2, total: 5, instruction: "RUN echo hi" },
    ]);
    expect(parseBuildLine(JSON.stringify({ stream: " ---> Running in 0123456789ab\n" }))).toContainEqual({ kind: "container", id: "0123456789ab" });
    expect(parseBuildLine(JSON.stringify({ aux: { ID: "sha256:abc" } }))).toEqual([{ kind: "built", id: "sha256:abc" }]);
    const err = parseBuildLine(JSON.stringify({ errorDetail: { code: 1, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: "x" }));
    expect(err).toContainEqual({ kind: "error", message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" });
    expect(parseBuildLine("")).toEqual([]);
    expect(parseBuildLine("not json")).toEqual([{ kind: "log", text: "not json" }]);
  });
});

describe("retention", () => {
  test("keeps the newest N, never the newest one", () => {
    const v = (n: number) => ({ version: n });
    expect(imagesToPrune([v(3), v(1), v(2), v(5), v(4)], 2).map((x) => x.version)).toEqual([1, 2, 3]);
    expect(imagesToPrune([v(1), v(2)], 5)).toEqual([]);
    expect(imagesToPrune([v(1), v(2)], 0).map((x) => x.version)).toEqual([1]);
  });
});

describe("labels as one LABEL line", () => {
  test("appended after the user's Dockerfile, sorted and quoted", () => {
    expect(labelledDockerfile("FROM x\nRUN a   \n\n", { b: "2", a: 'q"uote' })).toBe('FROM x\nRUN a\nLABEL "a"="q\\"uote" "b"="2"\n');
  });
  test(".dockerignore hides the injected files from COPY", () => {
    expect(injectedDockerignore(null)).toBe(".ancla.Dockerfile\n.dockerignore\n");
    expect(injectedDockerignore("node_modules\n*.log\n")).toBe("node_modules\n*.log\n.ancla.Dockerfile\n");
  });
});
