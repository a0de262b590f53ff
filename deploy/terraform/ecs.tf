# The task: keygate in front of the app, a policy init container and the
# CloudWatch agent. The container definitions are the repository's
# deploy/ecs/task-definition.json, rendered here, so the standalone file and
# this module cannot drift apart.

locals {
  task_definition = jsondecode(templatefile("${path.module}/../ecs/task-definition.json", {
    FAMILY                          = var.name
    CPU_ARCHITECTURE                = var.cpu_architecture
    TASK_CPU                        = tostring(var.task_cpu)
    TASK_MEMORY                     = tostring(var.task_memory)
    EXECUTION_ROLE_ARN              = aws_iam_role.execution.arn
    TASK_ROLE_ARN                   = aws_iam_role.task.arn
    KEYGATE_IMAGE                   = var.image
    APP_IMAGE                       = var.app_image
    APP_PORT                        = tostring(var.app_port)
    CW_AGENT_IMAGE                  = var.cloudwatch_agent_image
    LOG_LEVEL                       = var.log_level
    LOG_GROUP                       = aws_cloudwatch_log_group.containers.name
    AWS_REGION                      = data.aws_region.current.name
    KEYGATE_REPLICAS                = tostring(var.desired_count)
    POLICY_SHA256                   = sha256(var.policies_yaml)
    POLICY_PARAMETER_ARN            = aws_ssm_parameter.policies.arn
    MASTER_KEYS_SECRET_ARN          = var.master_keys_secret_arn
    JWT_SECRET_ARN                  = var.jwt_secret_arn
    JWT_SECRET_PREVIOUS_ARN         = local.jwt_secret_previous_arn
    REDIS_URL_SECRET_ARN            = aws_secretsmanager_secret_version.redis_url.arn
    CW_CONFIG_PARAMETER_ARN         = aws_ssm_parameter.cloudwatch_agent.arn
    PROMETHEUS_CONFIG_PARAMETER_ARN = aws_ssm_parameter.prometheus.arn
  }))
}

resource "aws_ecs_task_definition" "keygate" {
  family                   = local.task_definition.family
  network_mode             = local.task_definition.networkMode
  requires_compatibilities = local.task_definition.requiresCompatibilities
  cpu                      = local.task_definition.cpu
  memory                   = local.task_definition.memory
  execution_role_arn       = local.task_definition.executionRoleArn
  task_role_arn            = local.task_definition.taskRoleArn
  container_definitions    = jsonencode(local.task_definition.containerDefinitions)

  runtime_platform {
    operating_system_family = local.task_definition.runtimePlatform.operatingSystemFamily
    cpu_architecture        = local.task_definition.runtimePlatform.cpuArchitecture
  }

  dynamic "volume" {
    for_each = local.task_definition.volumes
    content {
      name = volume.value.name
    }
  }

  tags = var.tags
}

resource "aws_lb_target_group" "ingress" {
  name                 = "${var.name}-ingress"
  port                 = 8080
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  # Goes 503 on SIGTERM, so the ALB stops routing before keygate drains.
  health_check {
    path                = "/_keygate/healthz"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = var.tags
}

resource "aws_lb_listener_rule" "ingress" {
  listener_arn = var.alb_listener_arn
  priority     = var.listener_rule_priority

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.ingress.arn
  }

  condition {
    path_pattern {
      values = ["/*"]
    }
  }

  dynamic "condition" {
    for_each = length(var.host_headers) > 0 ? [1] : []
    content {
      host_header {
        values = var.host_headers
      }
    }
  }

  tags = var.tags
}

resource "aws_ecs_service" "keygate" {
  name                               = var.name
  cluster                            = var.cluster_arn
  task_definition                    = aws_ecs_task_definition.keygate.arn
  desired_count                      = var.desired_count
  launch_type                        = "FARGATE"
  platform_version                   = "1.4.0"
  health_check_grace_period_seconds  = 30
  propagate_tags                     = "SERVICE"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.task.id]
    assign_public_ip = false
  }

  # Only keygate's ingress is registered: the app is never a target.
  load_balancer {
    target_group_arn = aws_lb_target_group.ingress.arn
    container_name   = "keygate"
    container_port   = 8080
  }

  depends_on = [aws_lb_listener_rule.ingress]
  tags       = var.tags
}
