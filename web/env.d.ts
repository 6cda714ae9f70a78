// Bun bundles imported stylesheets into a separate hashed file.
declare module "*.css";
