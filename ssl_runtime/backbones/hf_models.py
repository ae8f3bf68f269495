"""Two small transformers models the hub lacks: a CNN for tiny images and a ResNet with the CIFAR stem.

Self-contained on purpose (imports only torch and transformers): `save_pretrained` copies this file
next to the weights, so `AutoModel.from_pretrained(dir, trust_remote_code=True)` loads an exported
encoder on a machine without sslpilot.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel, ResNetConfig, ResNetModel
from transformers.modeling_outputs import BaseModelOutputWithPoolingAndNoAttention
from transformers.models.resnet.modeling_resnet import ResNetConvLayer


class SmallCNNConfig(PretrainedConfig):
    model_type = "sslpilot_small_cnn"

    def __init__(self, num_channels: int = 3, hidden_sizes: list[int] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.num_channels = num_channels
        self.hidden_sizes = hidden_sizes or [32, 64, 128]


class SmallCNNModel(PreTrainedModel):
    """Conv-BN-ReLU x2 per stage, 2x2 max-pool between stages, global average pool at the end."""

    config_class = SmallCNNConfig
    main_input_name = "pixel_values"

    def __init__(self, config: SmallCNNConfig):
        super().__init__(config)
        layers: list[nn.Module] = []
        c_in = config.num_channels
        for i, c in enumerate(config.hidden_sizes):
            if i > 0:
                layers.append(nn.MaxPool2d(2))
            for _ in range(2):
                layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
                c_in = c
        self.features = nn.Sequential(*layers)
        self.pooler = nn.AdaptiveAvgPool2d(1)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def forward(self, pixel_values: torch.Tensor, **kwargs) -> BaseModelOutputWithPoolingAndNoAttention:
        hidden = self.features(pixel_values)
        return BaseModelOutputWithPoolingAndNoAttention(last_hidden_state=hidden, pooler_output=self.pooler(hidden))


class CifarResNetConfig(ResNetConfig):
    model_type = "sslpilot_cifar_resnet"


class CifarResNetModel(ResNetModel):
    """ResNet with a 3x3 stride-1 stem and no max-pool, as solo-learn and lightly use for <= 64 px inputs."""

    config_class = CifarResNetConfig

    def __init__(self, config: CifarResNetConfig):
        super().__init__(config)
        self.embedder.embedder = ResNetConvLayer(
            config.num_channels, config.embedding_size, kernel_size=3, stride=1, activation=config.hidden_act
        )
        self.embedder.pooler = nn.Identity()
        self.post_init()


for _cfg, _model in ((SmallCNNConfig, SmallCNNModel), (CifarResNetConfig, CifarResNetModel)):
    AutoConfig.register(_cfg.model_type, _cfg, exist_ok=True)
    AutoModel.register(_cfg, _model, exist_ok=True)
    _cfg.register_for_auto_class()
    _model.register_for_auto_class("AutoModel")
