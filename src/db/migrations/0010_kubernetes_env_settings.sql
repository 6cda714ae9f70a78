ALTER TABLE `environments` ADD `kubeconfig_server` text;--> statement-breakpoint
ALTER TABLE `environments` ADD `kubeconfig_fingerprint` text;--> statement-breakpoint
ALTER TABLE `environments` ADD `kube_context` text;--> statement-breakpoint
ALTER TABLE `environments` ADD `ingress_class` text;--> statement-breakpoint
ALTER TABLE `environments` ADD `ingress_tls_secret` text;--> statement-breakpoint
ALTER TABLE `environments` ADD `registry_url` text;--> statement-breakpoint
ALTER TABLE `environments` ADD `registry_username` text;--> statement-breakpoint
ALTER TABLE `environments` ADD `registry_password` text;