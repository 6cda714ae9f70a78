CREATE TABLE `exec_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`org_id` text NOT NULL,
	`service_id` text NOT NULL,
	`service_path` text NOT NULL,
	`user_id` text NOT NULL,
	`username` text NOT NULL,
	`process` text NOT NULL,
	`command` text NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text,
	`transport` text,
	`replica_id` text,
	`remote_address` text,
	`finished_at` text,
	`exit_code` integer,
	`created_at` text NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `exec_sessions_token_idx` ON `exec_sessions` (`token_hash`);--> statement-breakpoint
CREATE INDEX `exec_sessions_org_idx` ON `exec_sessions` (`org_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`release_id` text NOT NULL,
	`release_version` integer NOT NULL,
	`process_type` text NOT NULL,
	`command` text NOT NULL,
	`status` text DEFAULT 'running' NOT NULL,
	`exit_code` integer,
	`output` text DEFAULT '' NOT NULL,
	`error_detail` text,
	`duration_ms` integer,
	`created_by_id` text,
	`created_at` text NOT NULL,
	`finished_at` text,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `runs_service_idx` ON `runs` (`service_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `service_volumes` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`name` text NOT NULL,
	`mount_path` text NOT NULL,
	`size_hint` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `service_volumes_name_idx` ON `service_volumes` (`service_id`,`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `service_volumes_path_idx` ON `service_volumes` (`service_id`,`mount_path`);