CREATE TABLE `preview_environments` (
	`env_id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`number` integer NOT NULL,
	`repository` text,
	`head_sha` text,
	`status` text DEFAULT 'deploying' NOT NULL,
	`error` text,
	`created_at` text NOT NULL,
	`last_activity_at` text NOT NULL,
	FOREIGN KEY (`env_id`) REFERENCES `environments`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `preview_environments_project_number_idx` ON `preview_environments` (`project_id`,`number`);--> statement-breakpoint
CREATE TABLE `project_integrations` (
	`project_id` text PRIMARY KEY NOT NULL,
	`webhook_secret` text,
	`preview_source_env` text,
	`preview_ttl_hours` integer DEFAULT 72 NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `registry_signing_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`private_key` text NOT NULL,
	`certificate` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `service_git_credentials` (
	`service_id` text PRIMARY KEY NOT NULL,
	`deploy_key_public` text,
	`deploy_key_private` text,
	`deploy_key_fingerprint` text,
	`known_hosts` text,
	`known_hosts_pinned_at` text,
	`https_token` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`delivery_id` text NOT NULL,
	`project_id` text,
	`event` text NOT NULL,
	`action` text,
	`repository` text,
	`ref` text,
	`commit_sha` text,
	`status` text NOT NULL,
	`message` text NOT NULL,
	`pipeline_ids` text NOT NULL,
	`payload` text,
	`redelivery_of` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_project_idx` ON `webhook_deliveries` (`project_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_delivery_idx` ON `webhook_deliveries` (`delivery_id`);