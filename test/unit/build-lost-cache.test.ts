// A build whose cached image Docker lost mid-build (another service's retention removed it at that
// moment) goes again once; every other failure ends the build as before.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { BuildFailed, lostCachedImage, retryingLostCache } from "../../src/targets/docker/build";
import { rejectionOf } from "../support/settle";

setDefaultTimeout(120_000);
const DIGEST = "08b2ec9a4fccb6d84ce79864d35f9109538a25a4798185487e1523f19a1dc9f9";
// what the engine printed in a CI run while another test file removed its images
const LOST = `failed to get digest sha256:${DIGEST}: open /var/lib/docker/image/overlay2/imagedb/content/sha256/${DIGEST}: no such file or directory`;

describe("a cached image lost during a build", () => {
  test("is recognised by the engine's message, and nothing else is", () => {
    expect(lostCachedImage(LOST)).toBe(true);
    expect(lostCachedImage(`No such image: sha256:${DIGEST}`)).toBe(true);
    expect(lostCachedImage("The command '/bin/sh -c exit 3' returned a non-zero code: 3")).toBe(false);
    expect(lostCachedImage("failed to get digest sha256:abc: open x: no such file or directory")).toBe(false); // not a digest
    // a RUN step's failure quotes the command the user wrote: it cannot pass for the engine's message
    expect(lostCachedImage(`The command '/bin/sh -c exit 1 # ${LOST}' returned a non-zero code: 1`)).toBe(false);
    expect(lostCachedImage("COPY failed: file not found in build context or excluded by .dockerignore: stat app: file does not exist")).toBe(false);
  });

  test("the build goes again once, saying why, and its second result counts", async () => {
    const said: string[] = [];
    let runs = 0;
    const id = await retryingLostCache(
      async () => (++runs === 1 ? Promise.reject(new BuildFailed(LOST)) : `sha256:${DIGEST}`),
      (m) => said.push(m),
    );
    expect({ id, runs, said }).toEqual({ id: `sha256:${DIGEST}`, runs: 2, said: [LOST] });
  });

  test("a second loss, another build failure or a non-build error ends it at once", async () => {
    let runs = 0;
    expect((await rejectionOf(retryingLostCache(async () => (runs++, Promise.reject(new BuildFailed(LOST))), () => {}))).message).toBe(LOST);
    expect(runs).toBe(2);
    runs = 0;
    const failing = new BuildFailed("The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    expect(await rejectionOf(retryingLostCache(async () => (runs++, Promise.reject(failing)), () => {}))).toBe(failing as never);
    expect(runs).toBe(1);
    runs = 0;
    const aborted = new Error(LOST); // not the engine's build failure (e.g. the server stopping)
    expect(await rejectionOf(retryingLostCache(async () => (runs++, Promise.reject(aborted)), () => {}))).toBe(aborted as never);
    expect(runs).toBe(1);
  });
});
