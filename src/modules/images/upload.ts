// The build request body: a tar/tar.gz context, or nothing (JSON or empty) for git/image sources.
import type { Deps } from "../../deps";
import { AppError, PayloadTooLarge } from "../../errors";
import { mediaType } from "../../lib/body-limit";
import type { ServiceAccess } from "../services/access";
import { receiveContext } from "./context-store";
import { enqueueBuild, type BuildSource } from "./service";

const TAR_TYPES = ["application/x-tar", "application/tar", "application/gzip", "application/x-gzip", "application/octet-stream"];

/** Decides the build source from the request, then enqueues. Access is checked by the caller first. */
export async function buildFromRequest(deps: Deps, access: ServiceAccess, request: Request) {
  const type = mediaType(request);
  const length = request.headers.get("content-length");
  const hasBody = request.body !== null && length !== "0";
  let source: BuildSource = { kind: "auto" };
  if (hasBody && TAR_TYPES.includes(type)) {
    if (length && Number(length) > deps.config.maxContextSize) {
      throw new PayloadTooLarge(`The build context is larger than the limit of ${deps.config.maxContextSize} bytes (--max-context-size).`);
    }
    const capture = [access.service.dockerfilePath || "Dockerfile", "Procfile"];
    source = { kind: "upload", context: await receiveContext(deps, access.service.id, request.body!, capture) };
  } else if (hasBody && type && !type.includes("json")) {
    throw new AppError(415, `Unsupported Content-Type '${type}': send the build context as application/x-tar or application/gzip.`, "unsupported_media_type", 2);
  }
  const { image, job } = enqueueBuild(deps, access, source);
  return { ok: true, image_id: image.id, version: image.version, job_id: job.id };
}
