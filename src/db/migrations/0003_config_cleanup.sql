-- Config variables point at their scope by (scope, scope_id), not a foreign key: remove them
-- (secrets included) with the organization, team, project, environment or service they belong to.
-- Foreign-key cascades fire these triggers too, so deleting a project clears its envs' and services' config.
CREATE TRIGGER IF NOT EXISTS config_vars_org_cleanup AFTER DELETE ON organizations BEGIN
  DELETE FROM config_vars WHERE scope = 'organization' AND scope_id = OLD.id;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_vars_team_cleanup AFTER DELETE ON teams BEGIN
  DELETE FROM config_vars WHERE scope = 'team' AND scope_id = OLD.id;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_vars_project_cleanup AFTER DELETE ON projects BEGIN
  DELETE FROM config_vars WHERE scope = 'project' AND scope_id = OLD.id;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_vars_environment_cleanup AFTER DELETE ON environments BEGIN
  DELETE FROM config_vars WHERE scope = 'environment' AND scope_id = OLD.id;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_vars_service_cleanup AFTER DELETE ON services BEGIN
  DELETE FROM config_vars WHERE scope = 'service' AND scope_id = OLD.id;
END;
