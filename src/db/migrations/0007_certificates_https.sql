CREATE TABLE `acme_accounts` (
	`directory` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`key_sealed` text NOT NULL,
	`account_url` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `certificates` (
	`hostname` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`error` text,
	`cert_sealed` text,
	`key_sealed` text,
	`not_before` text,
	`not_after` text,
	`failures` integer DEFAULT 0 NOT NULL,
	`last_attempt_at` text,
	`next_attempt_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `services` ADD `https_redirect` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `services` ADD `hsts` integer DEFAULT false NOT NULL;