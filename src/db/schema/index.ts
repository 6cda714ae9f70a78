// Every table, for drizzle-kit and the typed client.
export * from "./users";
export * from "./orgs";
export * from "./projects";
export * from "./config";
export * from "./images";
export * from "./jobs";
export * from "./releases";
export * from "./deployments";
export * from "./promotions";
export * from "./usage";
export * from "./certificates";
export * from "./integrations";
export * from "./exec";
