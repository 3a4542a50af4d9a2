output "public_ip" {
  description = "The site's Elastic IP: the A record of domain_name must point here."
  value       = aws_eip.app.public_ip
}

output "url" {
  description = "The site."
  value       = "https://${var.domain_name}/"
}

output "availability_zone" {
  description = "The zone of the instance and the data volume, stored at the first apply (network.tf)."
  value       = local.availability_zone
}

output "instance_id" {
  description = "The EC2 instance (target of SSM sessions and CD's Run Command)."
  value       = aws_instance.app.id
}

output "bucket_name" {
  description = "S3 bucket of release bundles (releases/) and nightly Postgres dumps (backups/)."
  value       = aws_s3_bucket.main.id
}

output "kms_key_alias" {
  description = "KMS key for the SSM SecureStrings (aws ssm put-parameter --key-id ...)."
  value       = aws_kms_alias.main.name
}

output "ssm_parameter_path" {
  description = "SSM Parameter Store path whose parameters become the stack's .env."
  value       = "${local.ssm_path}/"
}

output "ssm_start_session_command" {
  description = "Opens a root-capable shell on the host through SSM Session Manager (needs the session-manager-plugin)."
  value       = "aws ssm start-session --region ${var.aws_region} --target ${aws_instance.app.id}"
}

output "dns_record" {
  description = "Whether Terraform manages the A record, or the record to create by hand."
  value       = var.route53_zone_id == "" ? "create by hand: ${var.domain_name}. A ${aws_eip.app.public_ip}" : "managed by Terraform in zone ${var.route53_zone_id}"
}
