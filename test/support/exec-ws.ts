// The exec WebSocket's protocol answer to a first message that is not JSON: the socket opens
// (it was upgraded through the listener and reached the exec module) and is closed with 4401 after
// one error message. Tests use it to see that WebSocket routes upgrade.
export async function execSocketRefusal(baseUrl: string): Promise<{ code: number; first: unknown }> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/api/v1/exec/ws`);
  const messages: string[] = [];
  ws.onmessage = (e) => void messages.push(String(e.data));
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("the WebSocket did not open"));
  });
  const closed = new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)));
  ws.send("not json");
  const code = await closed;
  return { code, first: messages[0] === undefined ? undefined : JSON.parse(messages[0]) };
}

export const EXEC_REFUSAL = { code: 4401, first: { type: "error", message: "The first message must be JSON with the exec token." } };
