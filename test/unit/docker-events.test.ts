// The Docker event stream parser: newline-delimited JSON whose objects may be split across
// chunks, with odd lines skipped instead of ending the stream.
import { expect, setDefaultTimeout, test } from "bun:test";
import { parseEvents } from "../../src/targets/docker/events";

setDefaultTimeout(120_000);

const event = (action: string, extra: Record<string, string> = {}) =>
  JSON.stringify({
    status: action,
    id: "c0ffee",
    Type: "container",
    Action: action,
    Actor: { ID: "c0ffee", Attributes: { "dev.ancla.service-id": "svc-1", name: "ancla-x", ...extra } },
    time: 1700000000,
    timeNano: 1700000000123456789,
  });

test("whole lines become events with their attributes and time; the unfinished tail is kept", () => {
  const { events, rest } = parseEvents(`${event("die", { exitCode: "137" })}\n${event("start")}\n{"Type":"cont`);
  expect(events).toEqual([
    { id: "c0ffee", action: "die", attributes: { "dev.ancla.service-id": "svc-1", name: "ancla-x", exitCode: "137" }, time: 1700000000123 },
    { id: "c0ffee", action: "start", attributes: { "dev.ancla.service-id": "svc-1", name: "ancla-x" }, time: 1700000000123 },
  ]);
  expect(rest).toBe('{"Type":"cont');
});

test("an object split over chunks is parsed once complete", () => {
  const line = event("health_status: unhealthy") + "\n";
  const first = parseEvents(line.slice(0, 40));
  expect(first.events).toEqual([]);
  const second = parseEvents(first.rest + line.slice(40));
  expect(second.events.map((e) => e.action)).toEqual(["health_status: unhealthy"]);
  expect(second.rest).toBe("");
});

test("junk, blank lines and non-container events are skipped", () => {
  const network = JSON.stringify({ Type: "network", Action: "connect", Actor: { ID: "n1", Attributes: {} } });
  const { events } = parseEvents(`not json\n\n${network}\n${event("kill", { signal: "9" })}\n`);
  expect(events.map((e) => [e.action, e.attributes.signal])).toEqual([["kill", "9"]]);
});
