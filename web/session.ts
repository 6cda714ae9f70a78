// Who is signed in; loaded once at start and after sign in / sign out.
import { api, type Session, type User } from "./api";

let current: User | null = null;

export const currentUser = () => current;

export async function loadSession(): Promise<User | null> {
  try {
    const s = await api.get<Session>("/api/v1/auth/session");
    current = s.authenticated ? s.user : null;
  } catch {
    current = null;
  }
  return current;
}

export async function signIn(login: string, password: string): Promise<User> {
  const s = await api.post<Session>("/api/v1/auth/login", { email: login, password });
  current = s.user;
  return s.user!;
}

export async function signOut(): Promise<void> {
  try {
    await api.post("/api/v1/auth/logout");
  } finally {
    current = null;
  }
}
