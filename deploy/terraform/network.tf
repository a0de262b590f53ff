# Only the ALB reaches the task, and only on keygate's ingress port. The app
# listens on loopback inside the task, so nothing but keygate can reach it and
# no client can forge x-keygate-user. Redis accepts only the tasks.

resource "aws_security_group" "task" {
  name_prefix = "${var.name}-task-"
  description = "keygate tasks: ingress port from the ALB only"
  vpc_id      = var.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "task_from_alb" {
  security_group_id            = aws_security_group.task.id
  description                  = "keygate ingress from the ALB"
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  referenced_security_group_id = var.alb_security_group_id
}

# LLM providers, AWS APIs and Redis; providers are on the internet (via NAT).
resource "aws_vpc_security_group_egress_rule" "task_all" {
  security_group_id = aws_security_group.task.id
  description       = "HTTPS to providers and AWS APIs, Redis"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_security_group" "redis" {
  name_prefix = "${var.name}-redis-"
  description = "keygate ElastiCache: Redis from keygate tasks only"
  vpc_id      = var.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_task" {
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis from keygate tasks"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = aws_security_group.task.id
}
