// Which services the Docker target may still create containers and volumes for, so that a teardown
// is final. Every operation that creates something of a service (a rollout, a replacement by the
// self-healing loop, a one-off, a volume helper) takes a ticket when it begins and creates through a
// client that checks the ticket at each create. A teardown closes the service: from then on a create
// of an operation that began before it (or while it runs) is refused — one already on its way to the
// engine is waited for and its container removed again — and the self-healing loop creates nothing
// of the service any more. Only a rollout that begins after the teardown returned opens it again (a
// deliberate deploy; the service's rows were kept, e.g. a preview whose removal failed).
import type { DockerClient } from "./client";
import { ServiceRemoved } from "../target";

/** What an operation may create: `at` orders it against teardowns; supervision never outlives one. */
export type Ticket = { serviceId: string; at: number; kind: "rollout" | "supervision" | "other" };

type Life = {
  /** teardowns of the service running now */
  closing: number;
  /** the clock when the last teardown began (0: never) */
  tornAt: number;
  /** torn down and not deployed since: the self-healing loop may not bring anything back */
  closed: boolean;
  /** creates (containers, volumes) on their way to the engine */
  creating: Set<Promise<unknown>>;
};

export type ServiceGate = ReturnType<typeof serviceGate>;

export function serviceGate() {
  let clock = 0;
  // entries of torn-down services stay (a few ids per deleted service); others only while creating
  const lives = new Map<string, Life>();
  const lifeOf = (serviceId: string): Life => {
    let life = lives.get(serviceId);
    if (!life) lives.set(serviceId, (life = { closing: 0, tornAt: 0, closed: false, creating: new Set() }));
    return life;
  };
  const forget = (serviceId: string) => {
    const life = lives.get(serviceId);
    if (life && !life.closing && !life.tornAt && !life.creating.size) lives.delete(serviceId);
  };
  const refused = (t: Ticket): boolean => {
    const life = lives.get(t.serviceId);
    return !!life && (life.closing > 0 || life.tornAt > t.at || (t.kind === "supervision" && life.closed));
  };

  /** Run one create of the ticket's service, tracked so a teardown waits for it. */
  function track<T>(t: Ticket, create: () => Promise<T>, undo: (made: T) => Promise<unknown>): Promise<T> {
    if (refused(t)) return Promise.reject(new ServiceRemoved());
    const life = lifeOf(t.serviceId);
    const work = (async () => {
      const made = await create();
      if (refused(t)) {
        await undo(made).catch(() => {});
        throw new ServiceRemoved();
      }
      return made;
    })();
    life.creating.add(work);
    const done = () => {
      life.creating.delete(work);
      forget(t.serviceId);
    };
    work.then(done, done);
    return work;
  }

  return {
    /** A ticket for an operation on the service beginning now; throws ServiceRemoved when it may not begin. A rollout opens a torn-down service again. */
    begin(serviceId: string, kind: Ticket["kind"]): Ticket {
      const t: Ticket = { serviceId, at: ++clock, kind };
      const life = lives.get(serviceId);
      if (life?.closing || (kind === "supervision" && life?.closed)) throw new ServiceRemoved();
      if (kind === "rollout" && life) life.closed = false;
      return t;
    },

    /** `docker` whose createContainer and createVolume of the ticket's service are checked and tracked (everything else passes through). */
    client(docker: DockerClient, t: Ticket): DockerClient {
      const guarded = Object.create(docker) as DockerClient;
      guarded.createContainer = ((opts: unknown) =>
        track(
          t,
          () => docker.createContainer(opts as never),
          (c) => c.remove({ force: true }),
        )) as never;
      guarded.createVolume = ((opts: unknown) =>
        // a volume made while the service goes stays for VolumeStore.remove (the teardown waited for it)
        track(
          t,
          () => docker.createVolume(opts as never) as unknown as Promise<unknown>,
          async () => {},
        )) as never;
      return guarded;
    },

    /**
     * Close the service (nothing more of it is created) until the returned function is called; it
     * stays closed to supervision after that. Each call is a teardown of its own.
     */
    close(serviceId: string): () => void {
      const life = lifeOf(serviceId);
      life.closing++;
      life.tornAt = ++clock;
      life.closed = true;
      return () => void life.closing--;
    },

    /** Resolves once the creates of the service in flight ended (each either refused or made), or at `deadline`. */
    async settled(serviceId: string, deadline: number): Promise<void> {
      const creating = [...(lives.get(serviceId)?.creating ?? [])];
      if (!creating.length) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.allSettled(creating), new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
    },

    /** How many creates of the service are on their way to the engine. */
    creating: (serviceId: string): number => lives.get(serviceId)?.creating.size ?? 0,
  };
}
