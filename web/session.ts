// Who is signed in; loaded once at start and after sign in / sign out.
import { api, type Session, type User } from "./api";

let current: User | null = null;

export const currentUser = () => current;

export async function loadSession(): Promise<User | null> {
  try {
    const s = await api.get<Session>("/api/v1/auth/session");
    current = s.authenticated ? s.user : null;
    roles.clear();
  } catch {
    current = null;
  }
  return current;
}

export async function signIn(login: string, password: string): Promise<User> {
  const s = await api.post<Session>("/api/v1/auth/login", { email: login, password });
  current = s.user;
  roles.clear();
  return s.user!;
}

export async function signOut(): Promise<void> {
  try {
    await api.post("/api/v1/auth/logout");
  } finally {
    current = null;
  }
}

type OrgRole = { admin: boolean; name: string };
const roles = new Map<string, Promise<OrgRole>>();

/** Whether the signed-in user administers `org` (server admins do every org); cached per page load. */
export function orgRole(org: string): Promise<OrgRole> {
  let r = roles.get(org);
  if (!r) {
    r = api
      .get<{ name: string; members: { user_id: string; admin: boolean }[] }>(`/api/v1/organizations/${encodeURIComponent(org)}`)
      .then((o) => ({ name: o.name, admin: Boolean(current?.admin || o.members.some((m) => m.user_id === current?.id && m.admin)) }))
      .catch(() => ({ name: org, admin: Boolean(current?.admin) }));
    roles.set(org, r);
    setTimeout(() => roles.delete(org), 30_000);
  }
  return r;
}
