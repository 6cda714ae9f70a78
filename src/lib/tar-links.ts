// Symbolic links of an uploaded build context, checked the way a file system would follow them:
// an entry may not lie under a link (`s/esc` where `s` is a link), and every link's target,
// followed through the other links (chains such as `d1/d2/s → ../..` then `t → s/..`), must stay
// inside the context. Lexical checks of each link alone miss both. Work and memory are bounded:
// link names and resolved paths share one byte budget, and resolution has a step budget.
export type LinkProblem = { path: string; target: string; reason: "escape" | "loop" | "budget" };

const ESCAPE = Symbol("escape");
const LOOP = Symbol("loop");
type Resolved = string | typeof ESCAPE | typeof LOOP;

export class LinkTable {
  private readonly links = new Map<string, string>();
  private readonly hashes = new Set<number>();
  // random per archive, so nobody can craft names whose prefixes all collide
  private readonly seed = (Math.random() * 0x7fffffff) | 1;
  private bytes = 0;

  constructor(private readonly maxBytes: number, private readonly maxSteps = 5_000_000) {}

  get size(): number {
    return this.links.size;
  }

  private step(h: number, c: number): number {
    return (Math.imul(h, 0x01000193) ^ c ^ this.seed) | 0;
  }
  private hash(s: string): number {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = this.step(h, s.charCodeAt(i));
    return h;
  }

  /** Records a symlink; false when the byte budget is spent. */
  add(path: string, target: string): boolean {
    this.bytes += path.length + target.length;
    if (this.bytes > this.maxBytes) return false;
    this.links.set(path, target);
    this.hashes.add(this.hash(path));
    return true;
  }

  /** A later entry of another type at the same path replaces the link (as extraction would). */
  delete(path: string): void {
    this.links.delete(path);
  }

  /** The link that `path` lies under (a proper prefix of it), or null. One pass over the name. */
  linkAbove(path: string): string | null {
    if (this.links.size === 0) return null;
    let h = 0;
    for (let i = 0; i < path.length; i++) {
      const c = path.charCodeAt(i);
      if (c === 47 && this.hashes.has(h) && this.links.has(path.slice(0, i))) return path.slice(0, i);
      h = this.step(h, c);
    }
    return null;
  }

  /** After the last entry: the first link whose target leaves the context when followed, or null. */
  findProblem(): LinkProblem | null {
    const memo = new Map<string, Resolved>();
    const active = new Set<string>();
    let steps = 0;
    const resolveLink = (path: string): Resolved | null => {
      const known = memo.get(path);
      if (known !== undefined) return known;
      if (active.has(path)) return LOOP;
      active.add(path);
      const slash = path.lastIndexOf("/");
      const r = walk(slash < 0 ? [] : path.slice(0, slash).split("/"), this.links.get(path)!);
      active.delete(path);
      if (r === null) return null;
      if (typeof r === "string") {
        this.bytes += r.length;
        if (this.bytes > this.maxBytes) return null;
      }
      memo.set(path, r);
      return r;
    };
    // follows `target` from the directory `start`; null when a budget is spent
    const walk = (start: string[], target: string): Resolved | null => {
      if (target.startsWith("/")) return ESCAPE;
      const comps = [...start];
      const hashes = prefixHashes(comps); // hashes[i]: hash of comps[0..i] joined by "/"
      for (const c of target.split("/")) {
        if (++steps > this.maxSteps) return null;
        if (c === "" || c === ".") continue;
        if (c === "..") {
          if (comps.length === 0) return ESCAPE;
          comps.pop();
          hashes.pop();
          continue;
        }
        const h = hashOf(comps.length ? hashes[hashes.length - 1]! : 0, c, comps.length > 0);
        comps.push(c);
        hashes.push(h);
        if (!this.hashes.has(h)) continue;
        const prefix = comps.join("/");
        if (!this.links.has(prefix)) continue;
        const r = resolveLink(prefix);
        if (r === null || typeof r === "symbol") return r;
        comps.length = 0;
        if (r !== "") comps.push(...r.split("/"));
        hashes.splice(0, hashes.length, ...prefixHashes(comps));
        steps += comps.length;
      }
      return comps.join("/");
    };
    const prefixHashes = (comps: string[]): number[] => {
      const out: number[] = [];
      let h = 0;
      comps.forEach((c, i) => {
        h = hashOf(h, c, i > 0);
        out.push(h);
      });
      return out;
    };
    // the same function as hash(): continue from `h` over "/" (when not the first component) and `c`
    const hashOf = (h: number, c: string, slash: boolean): number => {
      let x = slash ? this.step(h, 47) : h;
      for (let i = 0; i < c.length; i++) x = this.step(x, c.charCodeAt(i));
      return x;
    };
    for (const [path, target] of this.links) {
      const r = resolveLink(path);
      if (r === null) return { path, target, reason: "budget" };
      if (r === ESCAPE) return { path, target, reason: "escape" };
      if (r === LOOP) return { path, target, reason: "loop" };
    }
    return null;
  }
}
