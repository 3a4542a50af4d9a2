# Debian 12 (bookworm), from the Debian project's own AWS account.
data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"]

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

locals {
  # Only values here: the bootstrap logic is infra/host/chat-host.sh (a plain
  # script, shellchecked), shipped gzipped so user data stays under 16 KiB.
  user_data = templatefile("${path.module}/cloud-init.yaml.tftpl", {
    project          = var.project
    environment      = var.environment
    region           = var.aws_region
    bucket           = aws_s3_bucket.main.id
    kms_key_arn      = aws_kms_key.main.arn
    ssm_path         = local.ssm_path
    domain_name      = var.domain_name
    acme_email       = var.acme_email
    image_repository = var.image_repository
    enable_bot       = var.enable_bot
    data_volume_id   = aws_ebs_volume.data.id
    backup_time_utc  = var.backup_time_utc
    host_script_gz   = base64gzip(file("${path.module}/host/chat-host.sh"))
  })
}

resource "aws_instance" "app" {
  ami                    = data.aws_ami.debian.id
  instance_type          = var.instance_type
  subnet_id              = aws_subnet.public.id
  vpc_security_group_ids = [aws_security_group.app.id]
  iam_instance_profile   = aws_iam_instance_profile.instance.name
  monitoring             = var.detailed_monitoring
  ebs_optimized          = true

  user_data = local.user_data
  # cloud-init runs once per instance, so a changed bootstrap only takes
  # effect on a new instance. Replacing it is safe: the data volume, the
  # Elastic IP and the bucket outlive it (the plan shows the replacement).
  user_data_replace_on_change = true

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required" # IMDSv2 only
    # 2 hops: a container on Docker's bridge network is one hop further away
    # than the host (the AWS SDKs in containers need it; with 1 they time out).
    http_put_response_hop_limit = 2
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    kms_key_id            = aws_kms_key.main.arn
    delete_on_termination = true
  }

  # EC2 restarts the instance on other hardware when a system status check
  # fails (the default for t3 and other Nitro types, made explicit).
  maintenance_options {
    auto_recovery = "default"
  }

  lifecycle {
    # A newer Debian AMI must not replace the instance behind our back; take
    # one on purpose with: terraform apply -replace=aws_instance.app
    ignore_changes = [ami]
  }

  tags = { Name = local.name }
}

# Everything Docker keeps (images and the named volumes of Postgres, Kafka,
# Redis, Prometheus and Grafana) lives on this volume, mounted at
# /var/lib/docker, so that replacing the instance keeps the data.
resource "aws_ebs_volume" "data" {
  availability_zone = local.availability_zone
  type              = "gp3"
  size              = var.data_volume_size_gb
  encrypted         = true
  kms_key_id        = aws_kms_key.main.arn

  tags = { Name = "${local.name}-data" }

  lifecycle {
    # The database lives here: `terraform destroy` stops at this volume.
    # Remove this line on purpose to really delete it (after a backup).
    prevent_destroy = true
  }
}

resource "aws_volume_attachment" "data" {
  # The host finds it by volume id (NVMe serial), not by this name.
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data.id
  instance_id = aws_instance.app.id
  # Stop the instance before detaching (on replacement), so the file system
  # is unmounted cleanly.
  stop_instance_before_detaching = true
}

resource "aws_eip" "app" {
  domain = "vpc"

  tags = { Name = local.name }

  depends_on = [aws_internet_gateway.main]
}

resource "aws_eip_association" "app" {
  allocation_id = aws_eip.app.id
  instance_id   = aws_instance.app.id
}
