CREATE TABLE `image_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`image_id` text NOT NULL,
	`line` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`image_id`) REFERENCES `images`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `image_logs_image_idx` ON `image_logs` (`image_id`,`id`);--> statement-breakpoint
CREATE TABLE `images` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`version` integer NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`build_step` text,
	`error_detail` text,
	`source` text NOT NULL,
	`build_ref` text,
	`commit_sha` text,
	`docker_image_id` text,
	`repository_name` text NOT NULL,
	`tag` text NOT NULL,
	`size_bytes` integer,
	`dockerfile` text,
	`procfile` text,
	`processes` text,
	`image_metadata` text,
	`pruned` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`started_at` text,
	`finished_at` text,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `images_service_version_idx` ON `images` (`service_id`,`version`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`payload` text NOT NULL,
	`result` text,
	`error` text,
	`created_at` text NOT NULL,
	`started_at` text,
	`finished_at` text,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `jobs_status_created_idx` ON `jobs` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_service_status_idx` ON `jobs` (`service_id`,`status`);