CREATE TABLE `usage_rollups` (
	`series_id` integer NOT NULL,
	`ts` integer NOT NULL,
	`n` integer NOT NULL,
	`running` integer NOT NULL,
	`cpu_avg` integer,
	`cpu_max` integer,
	`mem_avg` integer,
	`mem_max` integer,
	`rx` integer,
	`tx` integer,
	`restarts` integer NOT NULL,
	PRIMARY KEY(`series_id`, `ts`),
	FOREIGN KEY (`series_id`) REFERENCES `usage_series`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `usage_samples` (
	`series_id` integer NOT NULL,
	`ts` integer NOT NULL,
	`cpu` integer,
	`mem` integer,
	`rx` integer,
	`tx` integer,
	`restarts` integer NOT NULL,
	`running` integer NOT NULL,
	PRIMARY KEY(`series_id`, `ts`),
	FOREIGN KEY (`series_id`) REFERENCES `usage_series`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `usage_series` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`service_id` text NOT NULL,
	`process` text NOT NULL,
	`replica` integer NOT NULL,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_series_slot_idx` ON `usage_series` (`service_id`,`process`,`replica`);