// Bare Bun.serve baseline: answers each path with fixed JSON bytes read from the file in argv[2].
import { readFileSync } from "node:fs";

const bodies = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as Record<string, string>;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.argv[3] ?? 0),
  fetch(req) {
    const body = bodies[new URL(req.url).pathname];
    if (body === undefined) return new Response('{"status":404}', { status: 404, headers: { "content-type": "application/json" } });
    return new Response(body, { headers: { "content-type": "application/json" } });
  },
});
console.log(`bare listening on http://127.0.0.1:${server.port}`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
