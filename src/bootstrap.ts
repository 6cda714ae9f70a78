// First start on an empty data dir: create the server admin and write its credentials once.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Deps } from "./deps";
import { countUsers } from "./modules/auth/repo";
import { createUser } from "./modules/auth/service";
import { randomBase62 } from "./lib/ids";

export async function ensureInitialAdmin(deps: Deps): Promise<{ password: string; file: string } | null> {
  if (countUsers(deps.db) > 0) return null;
  const password = randomBase62(24);
  await createUser(deps, { username: "admin", email: deps.config.adminEmail, password, admin: true });
  const file = join(deps.config.dataDir, "initial-admin.txt");
  writeFileSync(file, `username: admin\nemail: ${deps.config.adminEmail}\npassword: ${password}\n`, { mode: 0o600 });
  return { password, file };
}
