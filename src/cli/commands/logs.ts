// `ancla logs [org/project/env/service] [--tail N] [--follow]`: the service's container output,
// each line prefixed with process.replica; --follow streams it (Server-Sent Events) until interrupted.
import { AppError } from "../../errors";
import { FOLLOW, intFlag, noExtraArgs } from "../args";
import { clientFor, errorFromResponse, NETWORK_EXIT } from "../client";
import { followEvents, stoppedEarly } from "../events";
import { command, type CommandTable } from "../context";
import { servicePath, serviceTarget, TARGET } from "./deploy";

export const logCommands: CommandTable = {
  logs: command({
    summary: "Show a service's container output (--follow to stream)",
    usage: "logs [org/project/env/service]",
    options: { tail: { type: "string", value: "N", description: "lines per replica from the end (default 100)" }, ...FOLLOW, ...TARGET },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = serviceTarget(ctx, ctx.args[0]);
      const tail = intFlag(ctx.flags.tail, "tail", 0, 99_999) ?? 100;
      const client = clientFor(ctx);
      const { settings } = client;
      if (ctx.flags.follow === true) {
        // Server-Sent Events until interrupted; the server's shutdown ends the stream with a reason
        const stopped = stoppedEarly(await followEvents(client, `${servicePath(t)}/logs?tail=${tail}`, (line) => ctx.io.out(line), 0));
        if (stopped) throw stopped;
        return { kind: "none" };
      }
      if (!settings.apiKey) throw new AppError(401, "not logged in: run `ancla login`, pass --api-key or set ANCLA_API_KEY", "unauthorized", 3);
      const url = `${settings.server}${servicePath(t)}/logs?tail=${tail}`;
      let res: Response;
      try {
        res = await fetch(url, { headers: { "x-api-key": settings.apiKey, "user-agent": "ancla-cli" } });
      } catch (e) {
        throw new AppError(0, `cannot reach the Ancla server at ${settings.server}: ${(e as Error).message}`, "network", NETWORK_EXIT);
      }
      if (!res.ok) {
        const text = await res.text();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {}
        throw errorFromResponse(res.status, body);
      }
      const decoder = new TextDecoder();
      let partial = "";
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const parts = (partial + decoder.decode(chunk, { stream: true })).split("\n");
        partial = parts.pop() ?? "";
        for (const line of parts) ctx.io.out(line);
      }
      if (partial) ctx.io.out(partial);
      return { kind: "none" };
    },
  }),
};
