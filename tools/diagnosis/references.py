"""Built-in citations per verdict and cause. The literature store adds passages when it is available."""

from __future__ import annotations

SIMSIAM = {"title": "Chen & He 2021, Exploring Simple Siamese Representation Learning", "source": "arXiv:2011.10566"}
RANKME = {"title": "Garrido et al. 2023, RankMe: Assessing the Downstream Performance of Pretrained "
                   "Self-Supervised Representations by Their Rank", "source": "arXiv:2210.02885"}
DIMCOLLAPSE = {"title": "Jing et al. 2022, Understanding Dimensional Collapse in Contrastive Self-supervised "
                        "Learning", "source": "arXiv:2110.09348"}
ALIGN_UNIF = {"title": "Wang & Isola 2020, Understanding Contrastive Representation Learning through Alignment "
                       "and Uniformity on the Hypersphere", "source": "arXiv:2005.10242"}
DINO = {"title": "Caron et al. 2021, Emerging Properties in Self-Supervised Vision Transformers",
        "source": "arXiv:2104.14294"}
BYOL = {"title": "Grill et al. 2020, Bootstrap Your Own Latent", "source": "arXiv:2006.07733"}
SIMCLR = {"title": "Chen et al. 2020, A Simple Framework for Contrastive Learning of Visual Representations",
          "source": "arXiv:2002.05709"}
VICREG = {"title": "Bardes, Ponce & LeCun 2022, VICReg", "source": "arXiv:2105.04906"}
BARLOW = {"title": "Zbontar et al. 2021, Barlow Twins", "source": "arXiv:2103.03230"}
MAE = {"title": "He et al. 2021, Masked Autoencoders Are Scalable Vision Learners", "source": "arXiv:2111.06377"}
LARS = {"title": "Goyal et al. 2017, Accurate, Large Minibatch SGD (linear scaling, warm-up)",
        "source": "arXiv:1706.02677"}
DINOV2 = {"title": "Oquab et al. 2023, DINOv2: curated, deduplicated pretraining data", "source": "arXiv:2304.07193"}
BERT = {"title": "Devlin et al. 2019, BERT: Pre-training of Deep Bidirectional Transformers", "source": "arXiv:1810.04805"}
DONT_STOP = {"title": "Gururangan et al. 2020, Don't Stop Pretraining: Adapt Language Models to Domains and Tasks",
             "source": "arXiv:2004.10964"}
CLIP = {"title": "Radford et al. 2021, Learning Transferable Visual Models From Natural Language Supervision",
        "source": "arXiv:2103.00020"}
MTEB = {"title": "Muennighoff et al. 2022, MTEB: Massive Text Embedding Benchmark", "source": "arXiv:2210.07316"}

BY_VERDICT = {
    "complete_collapse": [SIMSIAM, ALIGN_UNIF, RANKME],
    "dimensional_collapse": [DIMCOLLAPSE, RANKME],
    "diverged": [LARS, DINO],
    "not_learning": [SIMCLR, LARS],
    "weak_representation": [SIMCLR, ALIGN_UNIF],
    "data_problem": [DINOV2],
    "healthy": [RANKME],
    "insufficient_evidence": [],
}

BY_METHOD = {"dino": DINO, "byol": BYOL, "vicreg": VICREG, "barlow_twins": BARLOW, "mae": MAE, "simclr": SIMCLR,
             "simsiam": SIMSIAM, "mlm": BERT, "clm": DONT_STOP, "clip": CLIP}


def citations_for(verdict: str, method: str, extra: list[dict] | None = None) -> list[dict]:
    """The cause's and the method's own papers first, then the verdict's general ones: answers show the first three,
    and a DINO collapse is DINO's (its paper came fourth, after SimSiam's)."""
    out: list[dict] = []
    for c in [*(extra or []), BY_METHOD.get(method), *BY_VERDICT.get(verdict, [])]:
        if c and c not in out:
            out.append(c)
    return out
