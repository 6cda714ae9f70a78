// Response shapes the CLI shares with the integrations routes (types only).
import type { z } from "zod";
import type { deployKeyView, previewView } from "./model";

export type PreviewView = z.infer<typeof previewView>;
export type DeployKeyView = z.infer<typeof deployKeyView>;
