# Optional: the A record, when the domain's zone is in Route 53 in this
# account. Otherwise create it at your DNS provider (output dns_record).
resource "aws_route53_record" "app" {
  count = var.route53_zone_id == "" ? 0 : 1

  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"
  ttl     = 300
  records = [aws_eip.app.public_ip]
}
