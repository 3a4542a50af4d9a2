# One VPC with one public subnet: a single instance reached through its Elastic
# IP. No NAT gateway (about 33 USD a month) is needed because the instance has
# a public address; nothing else lives in the VPC.

locals {
  name = "${var.project}-${var.environment}"
  # The zone is the one stored at the first apply (terraform_data below).
  availability_zone = terraform_data.availability_zone.output
}

# The zone of the subnet, the instance and the data volume, chosen at the
# first apply and kept in state: the data volume (prevent_destroy) cannot
# move, so a later change in what the choice below gives (a new zone, a Local
# Zone the account opts into, a different instance type) must not move it.
# Its input is ignored after the first apply; `terraform output
# availability_zone` shows it. Moving on purpose (after a backup, with the
# volume's prevent_destroy lifted): terraform apply
# -replace=terraform_data.availability_zone.
resource "terraform_data" "availability_zone" {
  # The first standard zone (no Local or Wavelength Zone) that offers the
  # instance type (some older zones lack t3), unless one is set.
  input = var.availability_zone != "" ? var.availability_zone : sort(setintersection(
    data.aws_ec2_instance_type_offerings.in_region.locations,
    data.aws_availability_zones.standard.names,
  ))[0]

  lifecycle {
    ignore_changes = [input]
  }
}

data "aws_availability_zones" "standard" {
  #checkov:skip=CKV_AWS_394:The set may grow when AWS adds a zone: the zone is chosen from it once, at the first apply, and kept in state (terraform_data.availability_zone ignores later changes), so a new zone never moves anything.
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

data "aws_ec2_instance_type_offerings" "in_region" {
  location_type = "availability-zone"

  filter {
    name   = "instance-type"
    values = [var.instance_type]
  }
}

resource "aws_vpc" "main" {
  #checkov:skip=CKV2_AWS_11:No flow logs: one instance in one public subnet whose security group admits only 80/443; a flow-log pipeline (log bucket or group, KMS grants for the delivery service) costs more than it tells here. Add one if a compliance regime asks.
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = local.name }
}

# The default security group of the VPC allows nothing: every resource uses an
# explicit group.
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.main.id

  tags = { Name = "${local.name}-default-deny" }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id

  tags = { Name = local.name }
}

resource "aws_subnet" "public" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 24 - tonumber(split("/", var.vpc_cidr)[1]), 0)
  availability_zone = local.availability_zone
  # The instance's public address is its Elastic IP, not an automatic one.
  map_public_ip_on_launch = false

  tags = { Name = "${local.name}-public" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }

  tags = { Name = "${local.name}-public" }
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

# The instance's only security group: HTTP and HTTPS in, nothing else. No SSH:
# shells go through SSM Session Manager, which needs no inbound port.
resource "aws_security_group" "app" {
  name        = "${local.name}-app"
  description = "chat host: 80/443 in from anywhere; 80/443 out"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.name}-app" }
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.app.id
  description       = "HTTPS: the site, the API and the WebSocket"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "http" {
  #checkov:skip=CKV_AWS_260:Port 80 must be open to the internet: Let's Encrypt's HTTP-01 challenge arrives on it, and nginx answers everything else on it with a redirect to HTTPS.
  security_group_id = aws_security_group.app.id
  description       = "HTTP: ACME HTTP-01 challenges and redirects to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

# Outbound: HTTPS (SSM, S3, the image registry, Let's Encrypt, Docker's apt
# repository, the bot's model API) and HTTP (Debian's apt mirrors, which are
# signed). DNS and time go to the VPC's link-local resolver and time service,
# which security groups do not filter.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.app.id
  description       = "HTTPS out: AWS APIs, registry, ACME, apt repositories"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "http" {
  security_group_id = aws_security_group.app.id
  description       = "HTTP out: Debian apt mirrors (packages are signed)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}
