variable "project" {
  description = "Short name used in resource names, tags and the SSM parameter path (/<project>/<environment>/)."
  type        = string
  default     = "chat"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.project))
    error_message = "project must be 2-20 characters: lowercase letters, digits and '-', starting with a letter."
  }
}

variable "environment" {
  description = "Deployment environment (production, staging, ...). Part of names and of the SSM parameter path."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 characters: lowercase letters, digits and '-', starting with a letter."
  }
}

variable "aws_region" {
  description = "AWS region of every resource."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like us-east-1 or eu-central-1."
  }
}

variable "availability_zone" {
  description = "Availability zone of the instance and its data volume. Empty: the region's first zone that offers instance_type."
  type        = string
  default     = ""

  validation {
    condition     = var.availability_zone == "" || can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$", var.availability_zone))
    error_message = "availability_zone must be empty or look like us-east-1a."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC. The instance's subnet is its first /24."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 24
    error_message = "vpc_cidr must be an IPv4 CIDR block of /24 or larger, e.g. 10.40.0.0/16."
  }
}

variable "instance_type" {
  description = "EC2 instance type (x86_64, Nitro). The stack without the bot (Kafka, Postgres, Redis, two gateways, writer, nginx, certbot, Prometheus, Grafana) uses about 3 GiB: t3.medium (4 GiB, plus 2 GiB swap) is the smallest that fits; t3.large gives headroom. With enable_bot, Ollama alone may take 6 GiB: t3.xlarge or larger."
  type        = string
  default     = "t3.medium"

  validation {
    condition     = can(regex("^(t3|t3a|m5|m5a|m6i|m6a|m7i|m7a|c5|c6i|c7i|r5|r6i|r7i)\\.(medium|large|xlarge|[0-9]+xlarge)$", var.instance_type))
    error_message = "instance_type must be an x86_64 Nitro type of at least 'medium' size, e.g. t3.medium, t3.large or m6i.large (the images are built for amd64)."
  }
}

variable "root_volume_size_gb" {
  description = "Size of the root volume (gp3, encrypted) in GiB: the OS, the release bundles and local backup copies."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size_gb >= 10 && var.root_volume_size_gb <= 200
    error_message = "root_volume_size_gb must be between 10 and 200."
  }
}

variable "data_volume_size_gb" {
  description = "Size of the data volume (gp3, encrypted) in GiB, mounted at /var/lib/docker: images and the Postgres, Kafka, Redis, Prometheus and Grafana volumes. It outlives the instance."
  type        = number
  default     = 30

  validation {
    condition     = var.data_volume_size_gb >= 10 && var.data_volume_size_gb <= 2000
    error_message = "data_volume_size_gb must be between 10 and 2000."
  }
}

variable "detailed_monitoring" {
  description = "1-minute CloudWatch metrics for the instance (about 2 USD a month). The stack's own Prometheus stops with the host; these do not."
  type        = bool
  default     = true
}

variable "domain_name" {
  description = "Public host name of the site (e.g. chat.example.com). The certificate is issued for it."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "domain_name must be a lowercase DNS name such as chat.example.com."
  }
}

variable "acme_email" {
  description = "Contact address given to Let's Encrypt (expiry notices)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\\.)+[A-Za-z]{2,63}$", var.acme_email))
    error_message = "acme_email must be an email address."
  }
}

variable "route53_zone_id" {
  description = "ID of a Route 53 hosted zone that holds domain_name. Set: Terraform creates the A record. Empty: create the A record yourself (output public_ip)."
  type        = string
  default     = ""

  validation {
    condition     = var.route53_zone_id == "" || can(regex("^Z[A-Z0-9]{5,31}$", var.route53_zone_id))
    error_message = "route53_zone_id must be empty or a hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "image_repository" {
  description = "Registry path the images are pushed to by CD, without the service name or tag (e.g. ghcr.io/acme/chat). Compose pulls <image_repository>/<service>:<version>."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$", var.image_repository))
    error_message = "image_repository must be a lowercase registry path such as ghcr.io/acme/chat."
  }
}

variable "enable_bot" {
  description = "Run the room bot and its Ollama model server (compose profile `bot`). Needs a larger instance (see instance_type)."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Days a nightly Postgres dump is kept in S3 (and days an overwritten or deleted one stays recoverable as a noncurrent version)."
  type        = number
  default     = 30

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 3650
    error_message = "backup_retention_days must be between 7 and 3650."
  }
}

variable "backup_time_utc" {
  description = "Time of day (UTC, HH:MM) of the nightly backup (systemd timer on the host)."
  type        = string
  default     = "03:15"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.backup_time_utc))
    error_message = "backup_time_utc must be HH:MM (24 h, UTC)."
  }
}
