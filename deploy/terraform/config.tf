# Configuration the task reads at start: the policy and the CloudWatch agent's
# two configs, as SSM parameters (ECS injects them as environment variables),
# and the log groups.

locals {
  jwt_secret_previous_arn = coalesce(var.jwt_secret_previous_arn, var.jwt_secret_arn)
  prometheus_log_group    = "/ecs/${var.name}/prometheus"
}

data "aws_region" "current" {}

resource "aws_ssm_parameter" "policies" {
  name        = "/${var.name}/policies.yaml"
  description = "keygate policies.yaml; the keygate-policy init container writes it to /etc/keygate."
  type        = "String"
  tier        = length(var.policies_yaml) > 4096 ? "Advanced" : "Standard"
  value       = var.policies_yaml
  tags        = var.tags
}

resource "aws_ssm_parameter" "cloudwatch_agent" {
  name  = "/${var.name}/cloudwatch-agent.json"
  type  = "String"
  tier  = "Advanced"
  value = templatefile("${path.module}/../cloudwatch/agent.json", { PROMETHEUS_LOG_GROUP = local.prometheus_log_group })
  tags  = var.tags
}

resource "aws_ssm_parameter" "prometheus" {
  name  = "/${var.name}/prometheus.yaml"
  type  = "String"
  tier  = "Advanced"
  value = templatefile("${path.module}/../cloudwatch/prometheus.yaml", { SERVICE_NAME = var.name })
  tags  = var.tags
}

resource "aws_cloudwatch_log_group" "containers" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

# EMF events the agent writes; CloudWatch extracts the metrics from them, so
# the raw events are only kept for debugging.
resource "aws_cloudwatch_log_group" "prometheus" {
  name              = local.prometheus_log_group
  retention_in_days = 3
  tags              = var.tags
}
