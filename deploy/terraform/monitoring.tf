# The CloudWatch dashboard (deploy/cloudwatch/dashboard.json, rendered) and the
# SNS topic the alarms notify. Metrics reach the `Keygate` namespace through
# the CloudWatch agent sidecar: it scrapes keygate's admin /metrics on loopback
# and writes EMF events, from which CloudWatch extracts the metrics.

locals {
  redis_nodes = sort(tolist(aws_elasticache_replication_group.redis.member_clusters))
}

resource "aws_cloudwatch_dashboard" "keygate" {
  dashboard_name = var.name
  dashboard_body = jsonencode(jsondecode(templatefile("${path.module}/../cloudwatch/dashboard.json", {
    SERVICE_NAME            = var.name
    AWS_REGION              = data.aws_region.current.name
    ALB_ARN_SUFFIX          = var.alb_arn_suffix
    TARGET_GROUP_ARN_SUFFIX = aws_lb_target_group.ingress.arn_suffix
    REDIS_NODE_1            = local.redis_nodes[0]
    REDIS_NODE_2            = local.redis_nodes[1]
  })))
}

resource "aws_sns_topic" "alarms" {
  name = "${var.name}-alarms"
  tags = var.tags
}

resource "aws_sns_topic_subscription" "alarm_email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}
