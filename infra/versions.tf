terraform {
  # 1.10 brought S3-native state locking (use_lockfile), which backend.hcl uses.
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.20"
    }
  }

  # Partial configuration: bucket, key, region and use_lockfile come from a
  # file given at init time, so no account-specific value is committed:
  #   terraform init -backend-config=backend.hcl
  # (see backend.hcl.example and docs/deploy.md).
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
