# One alarm per failure an operator must act on. docs/operations.md says, for
# each, what it means and what to do. Every alarm also notifies on recovery.

locals {
  alarm_actions = [aws_sns_topic.alarms.arn]
  namespace     = "Keygate"
}

# Share of the app's answers through keygate that are 5xx (app errors and
# keygate's own: store unavailable, upstream unreachable or timing out).
resource "aws_cloudwatch_metric_alarm" "error_rate" {
  alarm_name          = "${var.name}-error-rate"
  alarm_description   = "More than ${var.error_rate_threshold_percent}% of ingress app requests answered 5xx over 5 minutes. Runbook: docs/operations.md#alarm-error-rate"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_threshold_percent
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "IF(total >= 20, 100 * FILL(errors, 0) / total, 0)"
    label       = "ingress app 5xx %"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = local.namespace
      metric_name = "keygate_requests_total"
      period      = 60
      stat        = "Sum"
      dimensions = {
        service      = var.name
        listener     = "ingress"
        route        = "app"
        status_class = "5xx"
      }
    }
  }

  metric_query {
    id = "total"
    metric {
      namespace   = local.namespace
      metric_name = "keygate_requests_total"
      period      = 60
      stat        = "Sum"
      dimensions = {
        service  = var.name
        listener = "ingress"
        route    = "app"
      }
    }
  }

  tags = var.tags
}

# The CloudWatch agent drops Prometheus histograms, so the p95 comes from the
# ALB: time until keygate (and the app behind it) starts answering.
resource "aws_cloudwatch_metric_alarm" "latency_p95" {
  alarm_name          = "${var.name}-latency-p95"
  alarm_description   = "p95 ingress response time above ${var.latency_p95_threshold_seconds * 1000} ms for 5 minutes. Runbook: docs/operations.md#alarm-latency-p95"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  extended_statistic  = "p95"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.latency_p95_threshold_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    LoadBalancer = var.alb_arn_suffix
    TargetGroup  = aws_lb_target_group.ingress.arn_suffix
  }

  tags = var.tags
}

# Some task has lost the shared store for 2 minutes: limits run per their
# on_store_failure (local shares, allow, or 503).
resource "aws_cloudwatch_metric_alarm" "store_degraded" {
  alarm_name          = "${var.name}-store-degraded"
  alarm_description   = "keygate cannot reach Redis; limits run per on_store_failure and the vault is unavailable. Runbook: docs/operations.md#alarm-store-degraded"
  namespace           = local.namespace
  metric_name         = "keygate_store_degraded"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    service = var.name
  }

  tags = var.tags
}

# The shared vault held keys and now holds none: users' keys were removed, or
# Redis lost data (failover to an empty replica, restore, FLUSHALL).
resource "aws_cloudwatch_metric_alarm" "vault_empty" {
  alarm_name          = "${var.name}-vault-empty"
  alarm_description   = "The Redis vault reports no stored provider keys. Runbook: docs/operations.md#alarm-vault-empty"
  namespace           = local.namespace
  metric_name         = "keygate_vault_records"
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    service = var.name
  }

  tags = var.tags
}

# A changed policies.yaml was rejected: the tasks still run the previous one.
resource "aws_cloudwatch_metric_alarm" "policy_reload_failed" {
  alarm_name          = "${var.name}-policy-reload-failed"
  alarm_description   = "A policy reload was rejected; the running policy is the previous one. Runbook: docs/operations.md#alarm-policy-reload-failed"
  namespace           = local.namespace
  metric_name         = "keygate_policy_reloads_total"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    service = var.name
    result  = "error"
  }

  tags = var.tags
}

# noeviction means a full Redis refuses writes: quotas degrade and new keys
# cannot be stored. Act well before that.
resource "aws_cloudwatch_metric_alarm" "redis_memory" {
  alarm_name          = "${var.name}-redis-memory"
  alarm_description   = "ElastiCache memory above 80% (noeviction: writes fail when full). Runbook: docs/operations.md#alarm-redis-memory"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "used"
    expression  = "MAX([node1, node2])"
    label       = "memory used %"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { node1 = local.redis_nodes[0], node2 = local.redis_nodes[1] }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/ElastiCache"
        metric_name = "DatabaseMemoryUsagePercentage"
        period      = 60
        stat        = "Maximum"
        dimensions  = { CacheClusterId = metric_query.value }
      }
    }
  }

  tags = var.tags
}
