// Password hashing behind one interface, carried by Deps. The server and every CLI command get
// argon2id at Bun's defaults (64 MiB, t=2) from createDeps; nothing in the config, the flags or
// the environment selects anything else. Only code that builds its own Deps (the test harness)
// can pass a cheaper hasher: verification reads the cost from the stored hash, so such hashes
// never reach a real data dir through a setting.

export type PasswordHasher = {
  hash: (password: string) => Promise<string>;
  verify: (password: string, hash: string) => Promise<boolean>;
};

export const argon2idHasher: PasswordHasher = {
  hash: (password) => Bun.password.hash(password, { algorithm: "argon2id" }),
  verify: (password, hash) => Bun.password.verify(password, hash),
};

const dummies = new WeakMap<PasswordHasher, Promise<string>>();
/**
 * A hash of a random password made by the same hasher: logins of unknown users verify against it,
 * so they cost what a real user's does and timing does not reveal who exists.
 */
export function dummyHashOf(hasher: PasswordHasher): Promise<string> {
  let d = dummies.get(hasher);
  if (!d) dummies.set(hasher, (d = hasher.hash(crypto.randomUUID())));
  return d;
}
