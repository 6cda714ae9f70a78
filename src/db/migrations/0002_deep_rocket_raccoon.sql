CREATE TABLE `releases` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`version` integer NOT NULL,
	`status` text DEFAULT 'complete' NOT NULL,
	`image_id` text,
	`image_version` integer,
	`image_ref` text NOT NULL,
	`repository_name` text DEFAULT '' NOT NULL,
	`tag` text,
	`commit_sha` text,
	`dockerfile` text,
	`processes` text NOT NULL,
	`config` text NOT NULL,
	`port` integer NOT NULL,
	`health_check_path` text NOT NULL,
	`health_check_host` text,
	`image_changes` text NOT NULL,
	`configuration_changes` text NOT NULL,
	`release_metadata` text,
	`error_detail` text,
	`log` text DEFAULT '' NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`image_id`) REFERENCES `images`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `releases_service_version_idx` ON `releases` (`service_id`,`version`);--> statement-breakpoint
CREATE TABLE `deployment_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`deployment_id` text NOT NULL,
	`line` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`deployment_id`) REFERENCES `deployments`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `deployment_logs_deployment_idx` ON `deployment_logs` (`deployment_id`,`id`);--> statement-breakpoint
CREATE TABLE `deployments` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`release_id` text NOT NULL,
	`version` integer NOT NULL,
	`kind` text DEFAULT 'deploy' NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`deploy_step` text,
	`error_detail` text,
	`metadata` text NOT NULL,
	`job_id` text,
	`created_by_id` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`started_at` text,
	`finished_at` text,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`release_id`) REFERENCES `releases`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deployments_service_version_idx` ON `deployments` (`service_id`,`version`);--> statement-breakpoint
CREATE INDEX `deployments_service_status_idx` ON `deployments` (`service_id`,`status`);