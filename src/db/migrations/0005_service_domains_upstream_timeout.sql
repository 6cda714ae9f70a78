CREATE TABLE `service_domains` (
	`hostname` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `service_domains_service_idx` ON `service_domains` (`service_id`);--> statement-breakpoint
ALTER TABLE `services` ADD `upstream_timeout` integer DEFAULT 60 NOT NULL;--> statement-breakpoint
-- Existing custom domains move into the unique table; where two services listed the same name,
-- the service created first keeps it (INSERT OR IGNORE in creation order). The losers' own lists
-- are corrected and the dropped names logged at the next start (services/domains.ts).
INSERT OR IGNORE INTO `service_domains` (`hostname`, `service_id`, `created_at`)
  SELECT lower(d.value), s.id, s.created_at FROM `services` s, json_each(s.domains) d
  WHERE d.type = 'text' ORDER BY s.created_at, s.id, d.key;
