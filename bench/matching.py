# ruff: noqa: RUF001, RUF002, RUF003  (French typography: its apostrophe is the data)
"""Keyword-rule matching throughput (monitor.rules.matcher) on one core, beside naive ``re``.

Usage: ``.venv/bin/python -m bench.matching [--items 3000] [--sizes user,100,1000,10000]
[--seconds 1] [--cpu 0] [--profile SIZE] [--arabic SHARE]`` (``user``: the rules of
config/monitor.yaml; ``--arabic 0.3``: three items in ten are Arabic headlines, and the
rules of the labelled Arabic set are added to each rule set; ``--arabic 0``: those rules only).

Generates, deterministically (seeded), French news items in the style of the Moroccan economic
press (the labelled examples of tests/data/fr-news-labelled.yaml first) and rule sets of growing
size drawn from a vocabulary of a few thousand terms, with the mix of a real configuration:
mostly ``any`` lists, some ``all`` and ``none``, ~10% wildcards, ~5% ``near``, ~2% case-sensitive
acronyms, a few nested groups and rule references, one regex per 1,000 rules. For each size it
prints the Matcher's compile time, ``Matcher.match`` items per CPU second pinned to one core
(best of 3 runs of at least ``--seconds``; CPU time, since a neighbour sharing the core inflates
wall time), where one item's time goes (tokenising, finding the terms, evaluating the rules),
the same throughput for a naive baseline (Python ``re``, one pattern per rule list, rule by rule,
on a sample of the items when it is slow), the speed-up and the match rates of both. Exit status
0 when the goals hold (20,000 items/s at 1,000 rules, 5,000 at 10,000), 1 when one is missed, 2
when a goal's size was not measured.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import os
import pstats
import random
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

import yaml

from monitor.config.rules import CaseTerm, Group, Near, RuleConfig, RuleRef
from monitor.core.models import FIELDS, Item
from monitor.rules.canonical import FieldText
from monitor.rules.matcher import Matcher
from monitor.sources.normalize import html_to_text

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "monitor.yaml"
LABELLED = ROOT / "tests" / "data" / "fr-news-labelled.yaml"
ARABIC = [ROOT / "tests" / "data" / f"ar-news-{name}.yaml" for name in ("labelled", "holdout")]
SEED = 2026
SIZES = "user,100,1000,10000"
GOALS = {1_000: 20_000.0, 10_000: 5_000.0}  # rules → items per second on one core
BREAKDOWN_ITEMS = 1_000  # items timed one by one to split an item's time into its parts

# --- Vocabulary --------------------------------------------------------------------------------
# One block per topic: its name and weight (share of the items), then ``key: a | b | …`` lines
# (an indented line without a key continues the previous one). Subjects carry their article;
# ``/f`` or ``/m`` gives the gender where the article does not (l’, les). Actors are companies
# and institutions, with an article when the press gives them one. ``english`` terms are what
# rule writers add beside the French ones; items rarely contain them. ``trade`` words make
# the topic's invented companies (see COMPANY_NAMES).
_TOPICS = """
économie 14
  subjects: la croissance | l’inflation/f | le taux directeur | le déficit budgétaire
    | la dette publique | les recettes fiscales/f | le pouvoir d’achat
    | les investissements étrangers/m | la loi de finances | les exportations/f
    | les importations/f | la balance commerciale | les réserves de change/f | le dirham | le PIB
    | la TVA | l’impôt sur les sociétés/m | la consommation des ménages
    | les prix à la consommation/m | la politique monétaire | le marché du travail
    | la conjoncture | les transferts des MRE/m | le déficit commercial | l’investissement public/m
    | la commande publique | les délais de paiement/m | les PME/f | le secteur informel
    | la notation souveraine | le Fonds Mohammed VI pour l’investissement
    | la charte de l’investissement | les subventions/f | la caisse de compensation
    | le budget de l’État
  actors: Bank Al-Maghrib | le HCP | le Haut-Commissariat au Plan
    | le ministère de l’Économie et des Finances | la CGEM | l’Office des changes/m | la DGI
    | le FMI | la Banque mondiale | la Cour des comptes | la BAD | Fitch Ratings | Moody’s
    | S&P Global | le Conseil de la concurrence
  english: inflation | GDP | central bank | interest rates | public debt | budget deficit
    | foreign direct investment | economic growth
  adjectives: marocain | national | public | fiscal | budgétaire | économique | annuel
  trade: Invest | Capital | Conseil | Finance | Gestion | Participations

offshoring 9
  subjects: les centres d’appels/m | l’externalisation/f | l’offshoring/m | le nearshore
    | la relation client | les téléconseillers/m | le démarchage téléphonique
    | la prospection téléphonique | les appels non sollicités/m | les plateformes d’appels/f
    | le BPO | les donneurs d’ordre/m | les centres de contact/m | l’outsourcing/m
    | le consentement préalable | la relation client externalisée | le back-office
    | la modération de contenus | le support technique | les services numériques/m
    | le télétravail | l’émission d’appels/f | la réception d’appels | le Technopark
    | Casanearshore | Rabat Technopolis | la sous-traitance | le turnover
    | la formation des téléconseillers | l’interdiction du démarchage/f | l’expérience client/f
    | la fraude au démarchage | le contrat-programme de l’offshoring
  actors: Intelcia | Majorel | Teleperformance | Concentrix | Webhelp | Comdata | Foundever
    | Outsourcia | Atento | Armatis | Transcom | Sitel | l’AMRC/f | Bloctel | l’Arcep/f
    | la CNIL | la DGCCRF | la Fédération marocaine de l’externalisation des services
  english: call center | call centre | contact center | customer experience | cold calling
    | business process outsourcing | offshore | nearshoring
  adjectives: marocain | français | numérique | francophone | national | externalisé
  trade: Contact | Call | Services | Outsourcing | Relation Client | Solutions | Phone

ia 8
  subjects: l’intelligence artificielle/f | l’IA générative/f | les agents conversationnels/m
    | les chatbots/m | l’apprentissage automatique/m | les grands modèles de langage/m
    | les centres de données/m | le cloud | l’automatisation/f | les algorithmes/m
    | la cybersécurité | la transformation numérique | la stratégie Maroc Digital 2030
    | les start-up/f | la souveraineté numérique | les données personnelles/f
    | la protection des données | l’analyse de données/f | les compétences numériques/f
    | la reconnaissance vocale | les assistants virtuels/m | la robotisation | l’IA/f
    | les semi-conducteurs/m | le calcul haute performance | l’AI Act/m | la régulation de l’IA
    | les deepfakes/m
  actors: OpenAI | ChatGPT | Google | Microsoft | Nvidia | Mistral AI | Meta
    | Amazon Web Services | Oracle | IBM | l’UM6P/f | l’Agence de développement du digital/f
    | la CNDP | la DGSSI | Huawei | Capgemini | CGI | Inetum | Gemini
  english: artificial intelligence | machine learning | generative AI | large language model
    | data center | cloud computing | deep learning | startup | chatbot | AI agents
  adjectives: numérique | génératif | marocain | national | technologique | digital | africain
  trade: Digital | Data | AI | Tech | Cloud | Labs | Software

télécoms 6
  subjects: la 5G | la fibre optique | le haut débit | les opérateurs télécoms/m
    | l’itinérance/f | les abonnés mobiles/m | les fréquences/f | les infrastructures télécoms/f
    | le câble sous-marin | le dégroupage | l’internet mobile/m | la couverture réseau
    | les tarifs de l’internet/m | la portabilité des numéros | le marché des télécoms
    | les zones blanches/f | le très haut débit | la téléphonie fixe | le paiement mobile
    | les satellites/m | le spectre
  actors: Maroc Telecom | inwi | Orange Maroc | l’ANRT/f | Ericsson | Nokia | ZTE | Starlink
    | Vodafone | Moov Africa | Itissalat Al-Maghrib | Etisalat
  english: telecom operators | broadband | mobile data | submarine cable | fiber optics
    | spectrum auction
  adjectives: mobile | national | numérique | marocain | fixe
  trade: Telecom | Net | Connect | Fibre | Mobile | Networks

politique 10
  subjects: le gouvernement | le Parlement | la Chambre des représentants
    | la Chambre des conseillers | le projet de loi | la majorité gouvernementale
    | l’opposition/f | les élections législatives/f | la réforme | le dialogue social
    | les syndicats/m | la régionalisation avancée | le Sahara | la diplomatie
    | le Conseil de sécurité | le plan d’autonomie | la motion de censure | le remaniement
    | la loi organique | le code pénal | la grève | les collectivités territoriales/f
    | les partis politiques/m | la commission des finances | le conseil de gouvernement
    | le conseil des ministres | la Constitution | la justice | la corruption
    | la déclaration de politique générale
  actors: le RNI | le PAM | l’Istiqlal/m | le PJD | l’USFP/f | l’ONU/f | l’Union européenne/f
    | la Commission européenne | l’Élysée/m | le Quai d’Orsay | la Maison-Blanche
    | l’Union africaine/f | la Cour constitutionnelle
    | le Conseil économique, social et environnemental | le CESE | l’UMT/f | la CDT
    | l’Instance nationale de la probité/f | le ministère de l’Intérieur
  english: parliament | elections | government | Security Council | autonomy plan
  adjectives: marocain | national | politique | gouvernemental | parlementaire | social
  trade: Conseil | Lobbying | Affaires Publiques | Stratégies

sport 8
  subjects: les Lions de l’Atlas/m | la CAN 2025 | la Coupe du monde 2030 | la Botola
    | la sélection nationale | le sélectionneur national | le championnat
    | la Ligue des champions | le Ballon d’or | le mercato | les Lionnes de l’Atlas/f
    | le stade Moulay Abdellah | le Grand Stade de Casablanca | les Jeux olympiques/m
    | le marathon | la finale | le football féminin | le tennis | l’athlétisme/m
    | les droits de diffusion/m | la billetterie | le Mondial U17 | la Coupe de la CAF
  actors: le Wydad | le Raja | l’AS FAR/f | la RS Berkane | la FRMF | la CAF | la FIFA | le PSG
    | le Real Madrid | le Barça | beIN Sports | Arryadia
  english: World Cup | Africa Cup of Nations | football | stadium
  adjectives: national | marocain | africain | sportif | mondial | féminin
  trade: Sports | Athletic | Events | Football Club | Académie

énergie 6
  subjects: les énergies renouvelables/f | l’hydrogène vert/m | le solaire | l’éolien/m
    | le gaz naturel | les prix des carburants/m | la centrale thermique | le dessalement
    | la transition énergétique | le gazoduc Nigeria-Maroc | l’efficacité énergétique/f
    | le mix électrique | les panneaux solaires/m | les stations-service/f | le GNL
    | l’électricité/f | la facture énergétique | les fournisseurs d’énergie/m
    | le stockage d’énergie | l’ammoniac vert/m | le parc éolien | le complexe Noor Ouarzazate
    | le charbon | le pétrole | les hydrocarbures/m | l’énergie/f
  actors: l’ONEE/m | Masen | l’ONHYM/m | Nareva | TotalEnergies | Afriquia | Shell
    | Acwa Power | Siemens Gamesa | l’AMEE/f
  english: green hydrogen | renewable energy | solar power | wind farm | natural gas
    | energy transition
  adjectives: énergétique | renouvelable | national | électrique | solaire | marocain
  trade: Energy | Solar | Power | Wind | Hydrogen | Pétrole

agriculture 6
  subjects: la sécheresse | les barrages/m | le stress hydrique | la campagne agricole
    | les céréales/f | le plan Génération Green | l’irrigation/f | le cheptel | les agrumes/m
    | l’huile d’olive/f | les fruits rouges/m | les exportations agricoles/f
    | les prix des fruits et légumes/m | la pêche maritime | la sardine | les engrais/m
    | les eaux usées/f | le dessalement de l’eau de mer | les nappes phréatiques/f
    | les précipitations/f | la pluviométrie | l’élevage/m | la souveraineté alimentaire
    | les moutons de l’Aïd/m | la tomate | l’avocat/m
  actors: l’ONSSA/m | le Crédit Agricole du Maroc | le ministère de l’Agriculture | la Comader
    | l’ONP/m | l’ADA/f | la FAO | Al Moutmir
  english: drought | water stress | desalination | agriculture | food security
  adjectives: agricole | hydrique | national | rural | marocain | alimentaire
  trade: Agro | Fruits | Primeurs | Agri | Olives | Irrigation

industrie 7
  subjects: l’industrie automobile/f | les équipementiers/m | l’aéronautique/f
    | les zones d’accélération industrielle/f | le taux d’intégration
    | les batteries électriques/f | la gigafactory | les véhicules électriques/m | le textile
    | la chimie | les phosphates/m | les engrais phosphatés/m | le ciment | l’acier/m
    | la sidérurgie | l’industrie pharmaceutique/f | la production industrielle
    | les usines/f | la zone franche | les exportations automobiles/f | le made in Morocco
    | la sous-traitance industrielle | l’industrie navale/f | les composants électroniques/m
  actors: Renault | Stellantis | l’OCP/m | Managem | Boeing | Airbus | Safran | Yazaki | Lear
    | Tanger Med | Kenitra Automotive City | BYD | Gotion High-Tech | LafargeHolcim Maroc
    | Sonasid | le ministère de l’Industrie et du Commerce | l’AMICA/f
  english: automotive industry | electric vehicles | aerospace | supply chain | battery plant
  adjectives: industriel | automobile | marocain | national | électrique | exportateur
  trade: Industries | Automotive | Aéro | Câblage | Textile | Métal

finance 7
  subjects: les banques/f | le crédit bancaire | la bancarisation | le mobile banking
    | les taux d’intérêt/m | le marché obligataire | la finance participative
    | les assurances/f | le paiement électronique | les fintechs/f | la Bourse de Casablanca
    | le MASI | les introductions en Bourse/f | les créances en souffrance/f
    | les crédits immobiliers/m | le financement des PME | les dépôts bancaires/m
    | le marché des capitaux | les cryptomonnaies/f | le dirham numérique
    | les fonds d’investissement/m | le capital-risque | le microcrédit | la liquidité bancaire
    | les transferts d’argent/m
  actors: Attijariwafa bank | Bank of Africa | la Banque Populaire | la BCP | CIH Bank
    | Société Générale Maroc | Saham | la CDG | l’AMMC/f | l’ACAPS/f | Wafasalaf | Tamwilcom
    | Al Barid Bank | Wafa Assurance | CFG Bank
  english: banking | fintech | stock exchange | bond market | private equity | mobile payments
  adjectives: bancaire | financier | marocain | participatif | boursier | national
  trade: Bank | Finance | Assurances | Leasing | Capital | Pay

transport 6
  subjects: les arrivées touristiques/f | les nuitées/f | le transport aérien | les MRE/m
    | l’hôtellerie/f | la saison estivale | l’opération Marhaba/f | les compagnies low cost/f
    | le trafic aérien | les croisières/f | le tourisme rural | les recettes touristiques/f
    | la destination Maroc | le TGV | la ligne à grande vitesse | les autoroutes/f
    | le port de Tanger Med | le tramway | les aéroports/m | le transport urbain | les taxis/m
    | le fret maritime | la logistique | les bus électriques/m | le train Al Boraq
  actors: Royal Air Maroc | l’ONMT/m | l’ONDA/m | l’ONCF/m | Ryanair | Air Arabia | easyJet
    | Transavia | Marsa Maroc | ADM | la SNTL | Accor | Marriott
  english: tourism | airline | low-cost | high-speed rail | logistics
  adjectives: touristique | aérien | maritime | urbain | national | marocain
  trade: Logistics | Airways | Voyages | Transport | Shipping | Hôtels

immobilier 4
  subjects: le logement social | les prix de l’immobilier/m | les ventes de ciment/f
    | les chantiers/m | l’aide directe au logement/f | la construction | le BTP
    | les promoteurs immobiliers/m | le foncier | les loyers/m | la classe moyenne
    | les villes nouvelles/f | la reconstruction d’Al Haouz | les bidonvilles/m | l’urbanisme/m
    | les crédits à l’habitat/m
  actors: Al Omrane | Addoha | Alliances | Résidences Dar Saada | la FNPI
    | le ministère de l’Aménagement du territoire | l’ANCFCC/f
  english: real estate | housing | construction
  adjectives: immobilier | social | urbain | marocain | foncier
  trade: Immobilier | Promotion | Construction | Habitat | Résidences

emploi 6
  subjects: le chômage | l’emploi des jeunes/m | le SMIG | la protection sociale | l’AMO/f
    | les retraites/f | les salaires/m | les recrutements/m | la formation professionnelle
    | le code du travail | le droit de grève | les licenciements/m | les diplômés/m
    | l’auto-entrepreneuriat/m | les travailleurs saisonniers/m | le programme Forsa
    | le programme Awrach | les offres d’emploi/f | la mobilité professionnelle
    | les compétences/f | la fuite des cerveaux | l’inclusion des femmes/f
  actors: l’ANAPEC/f | l’OFPPT/m | la CNSS | l’UMT/f | la CDT
    | le ministère de l’Inclusion économique | l’OIT/f | Rekrute | LinkedIn
  english: unemployment | jobs | labour market | minimum wage | layoffs | recruitment
  adjectives: social | professionnel | marocain | national | salarial
  trade: Intérim | Recrutement | Talents | Emploi | Formation

société 8
  subjects: l’hôpital public/m | la couverture médicale | les médicaments/m | les médecins/m
    | la santé mentale | les urgences/f | l’école publique/f | l’université/f
    | les étudiants/m | le baccalauréat | les enseignants/m | l’enseignement supérieur/m
    | les écoles pionnières/f | la rentrée scolaire | les bourses d’études/f | la vaccination
    | les cliniques privées/f | la grippe | l’hépatite B/f | le Ramadan | la Moudawana
    | le harcèlement | la sécurité routière | les accidents de la route/m | la météo
    | les températures/f | les intempéries/f | le séisme
  actors: le ministère de la Santé | l’OMS/f | le ministère de l’Éducation nationale
    | l’Université Mohammed V/f | l’Ordre des médecins/m | la Fondation Mohammed V | la DGSN
    | la Gendarmerie royale | la Protection civile
    | la Direction générale de la météorologie
  english: health care | hospital | education | students | road safety
  adjectives: public | privé | médical | scolaire | universitaire | national
  trade: Clinique | Pharma | École | Santé | Éducation

culture 5
  subjects: le festival | le cinéma marocain | la musique | les musées/m | le patrimoine
    | la presse | les médias/m | les réseaux sociaux/m
    | le Salon international de l’édition et du livre | les industries culturelles/f
    | le gaming | le streaming | la publicité | les influenceurs/m | la désinformation
    | le Festival international du film de Marrakech | la télévision | la radio
  actors: 2M | la SNRT | Médi1 TV | Netflix | TikTok | YouTube | la HACA | le CCM
    | la Fondation nationale des musées | Jazzablanca | Mawazine
  english: streaming | social media | video games | influencers | fake news
  adjectives: culturel | marocain | numérique | artistique | médiatique
  trade: Productions | Médias | Studio | Films | Events

international 8
  subjects: la coopération Sud-Sud | les relations franco-marocaines/f
    | l’accord de libre-échange/m | les droits de douane/m | la guerre commerciale
    | le commerce extérieur | les investissements chinois/m | la visite d’État | le Brexit
    | la façade atlantique | l’initiative atlantique/f | le port de Dakhla Atlantique
    | la migration | les visas/m | les sanctions/f | la guerre en Ukraine
    | la crise au Moyen-Orient | les prix du pétrole/m
  actors: l’Union européenne/f | la Chine | les États-Unis/m | l’Espagne/f | la France
    | le Sénégal | la Côte d’Ivoire | la Mauritanie | le Nigeria | l’Algérie/f | la Tunisie
    | l’Égypte/f | l’Arabie saoudite/f | les Émirats arabes unis/m | le Qatar | Israël
    | le Royaume-Uni | l’Allemagne/f | l’Italie/f | le Portugal | les BRICS/m | l’OMC/f
    | l’OTAN/f | le G20 | la ZLECAf
  english: trade war | tariffs | free trade agreement | migration | sanctions
  adjectives: international | diplomatique | commercial | bilatéral | africain | européen
  trade: Trading | Export | International | Global
"""

# masculine, feminine, masculine plural, feminine plural
_ADJECTIVES = """
marocain marocaine marocains marocaines | national nationale nationaux nationales
public publique publics publiques | fiscal fiscale fiscaux fiscales
budgétaire budgétaire budgétaires budgétaires | économique économique économiques économiques
annuel annuelle annuels annuelles | français française français françaises
numérique numérique numériques numériques | francophone francophone francophones francophones
externalisé externalisée externalisés externalisées | génératif générative génératifs génératives
technologique technologique technologiques technologiques | digital digitale digitaux digitales
africain africaine africains africaines | mobile mobile mobiles mobiles | fixe fixe fixes fixes
politique politique politiques politiques | gouvernemental gouvernementale gouvernementaux
gouvernementales | parlementaire parlementaire parlementaires parlementaires
social sociale sociaux sociales | sportif sportive sportifs sportives
mondial mondiale mondiaux mondiales | féminin féminine féminins féminines
énergétique énergétique énergétiques énergétiques | renouvelable renouvelable renouvelables
renouvelables | électrique électrique électriques électriques | solaire solaire solaires solaires
agricole agricole agricoles agricoles | hydrique hydrique hydriques hydriques
rural rurale ruraux rurales | alimentaire alimentaire alimentaires alimentaires
industriel industrielle industriels industrielles | automobile automobile automobiles automobiles
exportateur exportatrice exportateurs exportatrices | bancaire bancaire bancaires bancaires
financier financière financiers financières | participatif participative participatifs
participatives | boursier boursière boursiers boursières | touristique touristique touristiques
touristiques | aérien aérienne aériens aériennes | maritime maritime maritimes maritimes
urbain urbaine urbains urbaines | immobilier immobilière immobiliers immobilières
foncier foncière fonciers foncières | professionnel professionnelle professionnels
professionnelles | salarial salariale salariaux salariales | privé privée privés privées
médical médicale médicaux médicales | scolaire scolaire scolaires scolaires
universitaire universitaire universitaires universitaires | culturel culturelle culturels
culturelles | artistique artistique artistiques artistiques | médiatique médiatique médiatiques
médiatiques | international internationale internationaux internationales
diplomatique diplomatique diplomatiques diplomatiques | commercial commerciale commerciaux
commerciales | bilatéral bilatérale bilatéraux bilatérales | européen européenne européens
européennes
"""

CITIES = [
    *"Casablanca Rabat Tanger Fès Marrakech Agadir Oujda Kénitra Tétouan Meknès Laâyoune Dakhla "
    "Nador Safi Settat Khouribga Errachidia Ouarzazate Essaouira Mohammedia Salé Témara Taza "
    "Guelmim Larache Ifrane Berrechid".split(),
    "El Jadida", "Béni Mellal", "Al Hoceima", "Souss-Massa", "Casablanca-Settat",
    "Rabat-Salé-Kénitra", "Tanger-Tétouan-Al Hoceima", "Drâa-Tafilalet", "Marrakech-Safi",
    "Fès-Meknès", "Dakhla-Oued Ed-Dahab", "Paris", "Madrid", "Bruxelles", "Dakar", "Abidjan",
    "Londres", "Pékin", "Dubaï", "Lyon", "Marseille", "Barcelone",
]  # fmt: skip
COUNTRIES = (
    "la France", "l’Espagne/f", "le Sénégal", "la Côte d’Ivoire", "la Mauritanie", "le Nigeria",
    "la Chine", "les États-Unis/m", "l’Allemagne/f", "le Royaume-Uni", "l’Italie/f", "le Portugal",
    "le Qatar", "les Émirats arabes unis/m", "l’Arabie saoudite/f", "la Tunisie", "l’Égypte/f",
    "le Brésil", "l’Inde/f", "la Turquie", "le Japon", "la Corée du Sud",
)  # fmt: skip
FIRST_NAMES = (  # invented people: first name, "f" for a woman
    ("Karim", ""), ("Salma", "f"), ("Youssef", ""), ("Nadia", "f"), ("Mehdi", ""), ("Leila", "f"),
    ("Omar", ""), ("Imane", "f"), ("Hicham", ""), ("Samira", "f"), ("Anas", ""), ("Khadija", "f"),
    ("Rachid", ""), ("Meryem", "f"), ("Adil", ""), ("Zineb", "f"), ("Amine", ""), ("Houda", "f"),
    ("Reda", ""), ("Sanaa", "f"), ("Jean-Marc", ""), ("Claire", "f"),
)  # fmt: skip
LAST_NAMES = [
    *"Benjelloun Alaoui Berrada Tazi Bennani Chraibi Lahlou Kettani Ouazzani Sqalli Bouzidi "
    "Amrani Filali Naciri Slaoui Zniber Cherkaoui Dupont Lefèvre".split(),
    *("El Idrissi", "El Fassi", "Ait Lahcen"),
]  # fmt: skip
ROLES = (  # masculine, feminine
    ("directeur général", "directrice générale"), ("président", "présidente"),
    ("porte-parole", "porte-parole"), ("analyste", "analyste"), ("économiste", "économiste"),
    ("secrétaire général", "secrétaire générale"), ("responsable des ressources humaines",
    "responsable des ressources humaines"), ("fondateur", "fondatrice"),
)  # fmt: skip
MONTHS = (
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
)
DAYS = ("1er", *map(str, range(2, 29)))
QUARTERS = ("premier trimestre", "deuxième trimestre", "troisième trimestre", "premier semestre")
VERBS = (  # singular, plural: what a subject does in a title
    ("recule", "reculent"), ("progresse", "progressent"), ("bondit", "bondissent"),
    ("ralentit", "ralentissent"), ("se redresse", "se redressent"),
    ("atteint un niveau record", "atteignent un niveau record"), ("inquiète", "inquiètent"),
    ("s’accélère", "s’accélèrent"), ("marque le pas", "marquent le pas"),
    ("fait débat", "font débat"), ("se stabilise", "se stabilisent"), ("résiste", "résistent"),
)  # fmt: skip
MARKET = ("gagne", "cède", "grimpe", "recule", "s’envole", "chute")
# Exclusions rule writers add to a `none` list, beside terms of other topics.
EXCLUSIONS = (
    "sport", "football", "météo", "horoscope", "offre d'emploi", "publireportage", "nécrologie",
    "recrutement", "énergie", "immobilier", "jeu vidéo", "people", "faits divers", "promo",
)  # fmt: skip
ACRONYMS = (  # written case-sensitive by rule writers, since they meet common words once folded
    "AI", "IA", "CAN", "RAM", "PAM", "AMO", "OCP", "BAM", "CGEM", "ANRT", "ONEE", "HCP", "PME",
    "TVA", "PIB", "MRE", "CNSS", "ONCF", "FMI", "RNI", "BPO", "TGV", "ONU", "UE", "CDG", "IAM",
)  # fmt: skip
REGEXES = (  # the documented last resort, about one rule in 1,000 uses one
    "/GPT-?[0-9]/", "/t[ée]l[ée]conseill\\pL*/i", "/[0-9]+ ?MMDH/", "/centres? d.appels?/i",
    "/CAN 20[0-9][0-9]/", "/Maroc ?Telecom|IAM/", "/[0-9]+(,[0-9]+)? ?% de croissance/i",
    "/(?i)hydrog[eè]ne (vert|bas carbone)/",
)  # fmt: skip

TITLES = (
    "{P} : {s} {v} de {pct} à fin {M}",
    "{A} : un chiffre d’affaires de {x} MMDH à fin {M}",
    "{S} : {a} annonce {n} recrutements à {P}",
    "{S} {v} au {Q} {Y}, selon {i}",
    "{A} mise sur {s} pour accélérer sa croissance",
    "Le Maroc et {pays} signent un accord sur {s}",
    "{S} : ce que prévoit le nouveau texte",
    "{who} : « {S} {est} une priorité nationale »",
    "Entretien avec {who}, {role} {de_a}",
    "{A} lève {x} milliards de dirhams pour financer {s}",
    "Les chiffres clés {de_s} en {Y}",
    "{S} : l’exécutif dévoile sa feuille de route",
    "{P} accueille les assises nationales {de_s}",
    "Pourquoi {s} {inquiete} les investisseurs",
    "{A} et {a2} s’allient dans {s}",
    "Bourse de Casablanca : {a} {market} de {pct}",
    "Tribune. {S}, un levier pour les territoires",
    "{S} au Maroc : les professionnels réclament un cadre clair",
    "VIDÉO. {who} détaille la stratégie {de_a}",
    "[Exclusif] {A} prépare une offre sur {s}",
    "{P} : {n} emplois attendus dans {s} d’ici {Y2}",
    "{S} : {a} tire la sonnette d’alarme",
    "Ce que {s} va changer pour les entreprises marocaines",
    "{S} : le Maroc gagne {k} places dans le classement mondial",
    "{A} inaugure un nouveau site à {P}",
    "Loi de finances {Y2} : ce qui change pour {s}",
    "{S} : {a} annonce un plan de {x} milliards de dirhams sur cinq ans",
    "{P} : {a} ouvre un nouveau site et prévoit {n} recrutements d’ici {Y2}",
    "{S} {v} au {Q} {Y} : les explications {de_i}",
    "{who} ({a}) : « {S} {est} au cœur de notre stratégie »",
)  # fmt: skip
OUTLETS = (" - Les Inspirations ÉCO", " - Médias24", " - Le360", " | TelQuel", " - H24info",
           " - L’Economiste", " - Hespress Français", " - LesEco.ma", " - Le Matin")  # fmt: skip
SENTENCES = (
    "Selon les chiffres publiés par {i}, {s} {v} de {pct} au {Q} {Y}, après {pct2} un an plus "
    "tôt.",
    "{who}, {role} {de_a}, a indiqué que le groupe compte investir {x} milliards de dirhams "
    "d’ici {Y2}.",
    "Cette évolution s’explique notamment par {s2}, d’après les professionnels du secteur.",
    "Le projet, mené en partenariat avec {a2}, devrait créer {n} emplois directs à {P}.",
    "« Nous voulons faire du Maroc un hub régional {de_s} », a déclaré {who} lors d’une "
    "conférence de presse à {P}.",
    "À {P}, les opérateurs s’inquiètent de l’impact de la mesure sur {s2}.",
    "Le texte doit encore être publié au Bulletin officiel avant d’entrer en vigueur.",
    "La décision intervient dans un contexte marqué par {s2} et par la hausse des coûts.",
    "Les détails de l’opération seront dévoilés le {d} {M} à {P}.",
    "L’annonce a été bien accueillie par le marché : le titre {de_a} a gagné {pct} en séance.",
    "Pour {who}, {s2} {reste} un enjeu majeur pour la compétitivité du Royaume.",
    "{A2} n’a pas souhaité commenter ces informations.",
    "Le secteur emploie aujourd’hui près de {n} personnes, dont une majorité de moins de "
    "35 ans.",
    "Un rapport {de_i} souligne toutefois le retard du pays en matière {de_s2_bare}.",
    "Les professionnels attendent désormais les décrets d’application, prévus pour {M} {Y2}.",
    "D’autres annonces sont attendues lors du salon prévu à {P} en {M}.",
    "Le montant global de l’enveloppe atteint {x} millions de dirhams, selon {i}.",
)  # fmt: skip


_ARTICLES = (("les ", None, True), ("le ", False, False), ("la ", True, False), ("l’", None, False))


@dataclass(frozen=True, slots=True)
class Noun:
    """A noun phrase as the press writes it (``les centres d’appels``), and its bare form."""

    text: str  # with its article, if any
    bare: str  # without the article: what a rule writer types
    feminine: bool
    plural: bool

    @classmethod
    def parse(cls, spec: str) -> Noun:
        text, _, gender = spec.strip().partition("/")
        for article, feminine, plural in _ARTICLES:
            if text.startswith(article):
                bare = text[len(article) :]
                return cls(text, bare, feminine if feminine is not None else gender == "f", plural)
        return cls(text, text, gender == "f", False)

    def of(self) -> str:
        """``de`` and this noun: du, de la, de l’, des, d’ before a vowel."""
        return _contract(self.text, "de", "du", "des")

    def with_adjective(self, forms: tuple[str, str, str, str], bare: bool = False) -> str:
        """The noun qualified by the adjective (agreed), unless it already ends with it."""
        form, text = forms[2 * self.plural + self.feminine], self.bare if bare else self.text
        return text if text.endswith(form) else f"{text} {form}"


def _contract(text: str, preposition: str, masculine: str, plural: str) -> str:
    if text.startswith("le "):
        return f"{masculine} {text[3:]}"
    if text.startswith("les "):
        return f"{plural} {text[4:]}"
    if preposition == "de" and text[:1].lower() in "aeiouéèêâîôûy" and not text.startswith("l’"):
        return f"d’{text}"
    return f"{preposition} {text}"


# Invented companies, a place or a name and a word of the trade (``Souss Contact``): a long tail
# of names, each in few items, as most names a rule watches are.
COMPANY_NAMES = (
    "Atlas Anfa Argan Bouregreg Cèdre Chellah Draa Ifriqiya Kasbah Majorelle Medina Menara "
    "Mogador Oasis Saïss Sebou Souss Tafilalet Tingis Toubkal Volubilis Zagora Zellige Andalous "
    "Noor Rif Tamuda Lixus Amazigh Oum-Rabia Yasmine Nakhla Assala Baraka Nour Ibn-Battouta"
).split()


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    weight: int
    subjects: tuple[Noun, ...]
    actors: tuple[Noun, ...]  # real companies and institutions
    companies: tuple[Noun, ...]  # invented ones
    english: tuple[str, ...]
    adjectives: tuple[tuple[str, str, str, str], ...]


def _values(text: str) -> list[str]:
    return [v.strip() for v in text.split("|") if v.strip()]


def _parse_adjectives(text: str) -> dict[str, tuple[str, str, str, str]]:
    words = [w for w in text.split() if w != "|"]
    return {m: (m, f, mp, fp) for m, f, mp, fp in zip(*[iter(words)] * 4, strict=True)}


ADJECTIVES = _parse_adjectives(_ADJECTIVES)


def _parse_topics(text: str) -> tuple[Topic, ...]:
    blocks: list[dict[str, str]] = []
    key = ""
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            name, weight = line.rsplit(maxsplit=1)
            blocks.append({"name": name, "weight": weight})
        elif (found := re.match(r"\s+(\w+): (.*)", line)) is not None:
            key = found[1]
            blocks[-1][key] = found[2]
        else:
            blocks[-1][key] += " " + line.strip()
    return tuple(
        Topic(
            b["name"],
            int(b["weight"]),
            tuple(map(Noun.parse, _values(b["subjects"]))),
            tuple(map(Noun.parse, _values(b["actors"]))),
            tuple(
                Noun.parse(f"{name} {trade}")
                for name in COMPANY_NAMES
                for trade in _values(b["trade"])
            ),
            tuple(_values(b["english"])),
            tuple(ADJECTIVES[a] for a in _values(b["adjectives"])),
        )
        for b in blocks
    )


TOPICS = _parse_topics(_TOPICS)
PLACES = tuple(CITIES)
NATIONS = tuple(map(Noun.parse, COUNTRIES))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _number(rng: random.Random, low: int, high: int) -> str:
    """An integer in the press's style: 3.000, 3 000 (no-break space) or 3000."""
    value = rng.randint(low, high)
    if value < 1000:
        return str(value)
    sep = rng.choice([".", "\u00a0", "\u202f", ""])
    return f"{value:,}".replace(",", sep)


def _decimal(rng: random.Random, high: float) -> str:
    return f"{rng.uniform(0.1, high):.2f}".replace(".", ",")


def _percent(rng: random.Random) -> str:
    return f"{rng.uniform(0.2, 35):.1f}".replace(".", ",") + rng.choice(
        ["\u00a0%", "\u202f%", " %"]
    )


# --- Items -------------------------------------------------------------------------------------


def _pick(rng: random.Random, values: Sequence[Noun], skew: float = 1.6) -> Noun:
    """One value, some more often than others (the day's news has its favourite subjects)."""
    index = int(len(values) * rng.random() ** skew)
    return values[(index * 7) % len(values)]  # spread the favourites across the list


def _slots(rng: random.Random, topic: Topic) -> dict[str, str]:
    """The values a title or sentence template may use, drawn for one item."""
    subject = _pick(rng, topic.subjects)
    if rng.random() < 0.25:
        forms = rng.choice(topic.adjectives)
        subject = Noun(subject.with_adjective(forms), subject.with_adjective(forms, bare=True),
                       subject.feminine, subject.plural)  # fmt: skip
    other = topic if rng.random() < 0.6 else rng.choices(TOPICS, [t.weight for t in TOPICS])[0]
    second = _pick(rng, other.subjects)
    actor = rng.choice(topic.actors if rng.random() < 0.5 else topic.companies)
    actor2 = rng.choice(rng.choice([topic, other]).companies)
    institution = rng.choice(TOPICS[0].actors if rng.random() < 0.2 else topic.actors)
    first, gender = rng.choice(FIRST_NAMES)
    role = rng.choice(ROLES)[gender == "f"]
    who = f"{first} {rng.choice(LAST_NAMES)}"  # one of 550: a person is in few items
    nation = rng.choice(NATIONS)
    plural = subject.plural
    return {
        "S": _cap(subject.text), "s": subject.text, "de_s": subject.of(),
        "s2": second.text, "de_s2_bare": _contract(second.bare, "de", "de", "de"),
        "v": rng.choice(VERBS)[plural], "est": "sont" if plural else "est",
        "inquiete": "inquiètent" if plural else "inquiète",
        "reste": "restent" if second.plural else "reste",
        "A": _cap(actor.text), "a": actor.text, "de_a": actor.of(),
        "A2": _cap(actor2.text), "a2": actor2.text,
        "i": institution.text, "de_i": institution.of(),
        "who": who, "role": role,
        "pays": nation.text, "P": rng.choice(PLACES),
        "n": _number(rng, 20, 12_000), "x": _decimal(rng, 40), "k": str(rng.randint(2, 30)),
        "pct": _percent(rng), "pct2": _percent(rng),
        "M": rng.choice(MONTHS), "d": rng.choice(DAYS), "Q": rng.choice(QUARTERS),
        "Y": rng.choice(["2025", "2026"]), "Y2": str(rng.randint(2026, 2030)),
        "market": rng.choice(MARKET),
    }  # fmt: skip


SOURCES_FALLBACK = {"leseco": ["maroc", "economie"], "medias24": ["maroc", "economie"]}


def load_config() -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The user's rules and each source's tags, from config/monitor.yaml. ``languages`` is left
    out of the rules: it would time the language detector, not matching."""
    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    rules = [{k: v for k, v in r.items() if k != "languages"} for r in data.get("rules") or []]
    tags = {s["name"]: list(s.get("tags") or ()) for s in data.get("sources") or []}
    return rules, tags or SOURCES_FALLBACK


def labelled_items() -> list[tuple[str, str]]:
    """(title, summary) of the hand-written examples of tests/data/fr-news-labelled.yaml."""
    data = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    return [(str(i["title"]), str(i.get("summary") or "")) for i in data["items"]]


def generated_item(rng: random.Random) -> tuple[str, str]:
    """One (title, summary) of about 80 and 300 characters, before normalisation."""
    topic = rng.choices(TOPICS, [t.weight for t in TOPICS])[0]
    slots = _slots(rng, topic)
    title = rng.choice(TITLES).format(**slots)
    if rng.random() < 0.4:  # as Google News gives titles: "Title - Outlet"
        title += rng.choice(OUTLETS)
    sentences: list[str] = []
    for template in rng.sample(SENTENCES, len(SENTENCES)):
        sentences.append(_cap(template.format(**slots)))
        if sum(map(len, sentences)) + len(sentences) >= 260 or len(sentences) == 4:
            break
    return title, " ".join(sentences)


def arabic_titles() -> list[str]:
    """The Arabic headlines of the labelled Arabic sets (their French ones left out)."""
    titles = [
        str(item["title"])
        for path in ARABIC
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    ]
    return [title for title in titles if sum("\u0600" <= c <= "\u06ff" for c in title) > 10]


def arabic_rules() -> list[dict[str, Any]]:
    """The rules of the labelled Arabic set (Arabic terms, a wildcard, all, near), without
    ``languages`` as the user's rules (language detection costs the same in any language)."""
    rules: list[dict[str, Any]] = yaml.safe_load(ARABIC[0].read_text(encoding="utf-8"))["rules"]
    return [
        {**{k: v for k, v in rule.items() if k != "languages"}, "name": f"ar-{rule['name']}"}
        for rule in rules
    ]


def arabic_item(rng: random.Random, titles: Sequence[str]) -> tuple[str, str]:
    """An Arabic (title, summary): a headline, and others as the summary's sentences."""
    title, *others = rng.sample(titles, 5)
    sentences: list[str] = []
    for other in others:
        sentences.append(other + ".")
        if sum(map(len, sentences)) >= 220:
            break
    return title, " ".join(sentences)


def make_items(
    count: int, seed: int = SEED, sources: Sequence[str] = ("leseco",), arabic: float = 0.0
) -> list[Item]:
    """``count`` items: the labelled examples, then generated ones, a share ``arabic`` of them
    Arabic; title and summary normalised as the pipeline does (html_to_text), from the given
    sources in turn."""
    rng = random.Random(seed)
    texts = labelled_items()[:count]
    texts += [generated_item(rng) for _ in range(count - len(texts))]
    if arabic:
        titles, mixing = arabic_titles(), random.Random(seed + 1)
        texts = [arabic_item(mixing, titles) if mixing.random() < arabic else text
                 for text in texts]  # fmt: skip
    start = datetime(2026, 8, 3, 6, 0, tzinfo=UTC)
    return [
        Item(sources[n % len(sources)], f"k{n}", f"https://news.example/{n}",
             html_to_text(title), html_to_text(summary), "", start + timedelta(minutes=n))
        for n, (title, summary) in enumerate(texts)
    ]  # fmt: skip


# --- Rules -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pools:
    """The terms a topic's rules draw from."""

    subjects: tuple[str, ...]
    actors: tuple[str, ...]
    companies: tuple[str, ...]
    compounds: tuple[str, ...]
    english: tuple[str, ...]
    words: tuple[str, ...]  # words of seven letters or more, for wildcards


def _typed(term: str) -> str:
    return term.replace("’", "'")  # rule writers type the straight apostrophe


# Words of the templates (in many items) and adjectives: rule writers put a * after the
# words of their subject (externalis*), not after those.
_TEMPLATE_WORDS = frozenset(re.findall(r"\w+", " ".join(TITLES + SENTENCES).lower())) | {
    form for forms in ADJECTIVES.values() for form in forms
}


def _pools(topic: Topic) -> Pools:
    subjects = tuple(_typed(s.bare) for s in topic.subjects)
    compounds = tuple(_typed(s.with_adjective(f, bare=True))
                      for s in topic.subjects for f in topic.adjectives)  # fmt: skip
    words = tuple(dict.fromkeys(
        w for s in subjects for w in s.split()
        if len(w) >= 7 and w.isalpha() and w.islower() and w not in _TEMPLATE_WORDS
    ))  # fmt: skip
    actors = tuple(_typed(a.bare) for a in topic.actors)
    companies = tuple(c.bare for c in topic.companies)
    return Pools(subjects, actors, companies, compounds, topic.english, words)


POOLS = {t.name: _pools(t) for t in TOPICS}
PEOPLE = tuple(f"{f} {n}" for f, _ in FIRST_NAMES for n in LAST_NAMES)


def vocabulary() -> list[str]:
    """Every distinct plain term rules are drawn from (without wildcards and variants)."""
    terms: dict[str, None] = {}
    for pools in POOLS.values():
        for group in (pools.subjects, pools.actors, pools.companies, pools.compounds,
                      pools.english):  # fmt: skip
            terms.update(dict.fromkeys(group))
    terms.update(dict.fromkeys(PLACES))
    terms.update(dict.fromkeys(PEOPLE))
    return list(terms)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def _plain(rng: random.Random, pools: Pools) -> str:
    """A plain term as a rule writer types it: a company, a subject of the topic, often
    qualified, a person, an English term, a place; now and then without accents or in the
    plural."""
    kind = rng.random()
    if kind < 0.16:
        term = rng.choice(pools.subjects)
    elif kind < 0.26:
        term = rng.choice(pools.actors)
    elif kind < 0.52:
        term = rng.choice(pools.companies)
    elif kind < 0.72:
        term = rng.choice(pools.compounds)
    elif kind < 0.82:
        term = rng.choice(pools.english)
    elif kind < 0.99:
        term = rng.choice(PEOPLE)
    else:
        term = rng.choice(PLACES)
    variant = rng.random()
    if variant < 0.06:
        term = _strip_accents(term)
    elif variant < 0.09 and term.isalpha() and term.islower() and not term.endswith("s"):
        term += "s"
    return term


def _condition(rng: random.Random, pools: Pools) -> Any:
    """One entry of an ``any`` list: mostly a plain term; ~10% wildcards, ~5% near, ~2%
    case-sensitive acronyms."""
    kind = rng.random()
    if kind < 0.10 and pools.words:
        word = rng.choice(pools.words)
        return word[: max(6, len(word) - rng.randint(0, 2))] + "*"
    if kind < 0.15:
        first = rng.choice(pools.actors + pools.companies[:20] + PLACES)
        return {"near": [first, rng.choice(pools.subjects)], "within": rng.randint(3, 15)}
    if kind < 0.17:
        return {"term": rng.choice(ACRONYMS), "case": "sensitive"}
    return _plain(rng, pools)


def rule_dict(index: int, seed: int = SEED) -> dict[str, Any]:
    """Rule number ``index`` of the generated sequence; it depends only on ``index`` and
    ``seed``, so a larger set holds every smaller one. A rule referring to another names an
    earlier one."""
    rng = random.Random(seed * 1_000_003 + index)
    topic = rng.choices(TOPICS, [t.weight for t in TOPICS])[0]
    pools = POOLS[topic.name]
    count = rng.choice((2, 2, 3, 3, 3, 4, 4, 5, 6))
    terms = [_condition(rng, pools) for _ in range(count)]
    if index % 1000 == 500:
        terms[0] = REGEXES[(index // 1000) % len(REGEXES)]
    rule: dict[str, Any] = {"name": f"{topic.name.replace('é', 'e')}-{index}"}
    shape = rng.random()
    if shape < 0.72:
        rule["any"] = terms
    elif shape < 0.84:
        rule["any"] = terms
        others = POOLS[rng.choice(TOPICS).name]
        rule["none"] = [rng.choice(EXCLUSIONS)] + [_plain(rng, others)] * rng.randint(0, 1)
    elif shape < 0.92:
        rule["all"] = [rng.choice(pools.companies + PLACES), rng.choice(pools.subjects)]
    elif shape < 0.96:
        rule["all"] = [rng.choice(("Maroc", "marocain*", *PLACES[:6])), {"any": terms}]
    elif shape < 0.98:
        rule["any"] = [*terms[:-1], {"all": [rng.choice(pools.actors), terms[-1]]}]
    elif index > 0:
        rule["all"] = [{"rule": rule_dict(rng.randrange(index), seed)["name"]},
                       rng.choice(pools.subjects)]  # fmt: skip
    else:
        rule["any"] = terms
    scope = rng.random()
    if scope < 0.05:
        rule["fields"] = ["title"]
    elif scope < 0.08:
        rule["tags"] = ["maroc"]
    elif scope < 0.10:
        rule["sources"] = ["leseco", "medias24"]
    return rule


def make_rules(size: int, seed: int = SEED) -> list[RuleConfig]:
    """The first ``size`` generated rules, validated as the configuration is."""
    return [RuleConfig.model_validate(rule_dict(i, seed)) for i in range(size)]


def user_rules() -> list[RuleConfig]:
    """The user's rules, from config/monitor.yaml (without ``languages``)."""
    return [RuleConfig.model_validate(d) for d in load_config()[0]]


def _walk(conditions: Sequence[object]) -> Iterator[object]:
    for condition in conditions:
        yield condition
        if isinstance(condition, Group):
            yield from _walk([*condition.any, *condition.all, *condition.none])
        elif isinstance(condition, Near):
            yield from condition.near


def mix(rules: Sequence[RuleConfig]) -> dict[str, int]:
    """What the rules are made of, to print beside the figures."""
    counts = dict.fromkeys(
        ("terms", "wildcard", "near", "case", "regex", "group", "ref", "none", "scoped"), 0
    )
    for rule in rules:
        counts["none"] += bool(rule.none)
        counts["scoped"] += (
            rule.sources is not None or rule.tags is not None or len(rule.fields) < 3
        )
        for c in _walk([*rule.any, *rule.all, *rule.none]):
            if isinstance(c, str | CaseTerm):
                text = c if isinstance(c, str) else c.term
                counts["terms"] += 1
                counts["regex"] += text.startswith("/")
                counts["wildcard"] += "*" in text and not text.startswith("/")
                counts["case"] += isinstance(c, CaseTerm) and c.case == "sensitive"
            counts["near"] += isinstance(c, Near)
            counts["group"] += isinstance(c, Group)
            counts["ref"] += isinstance(c, RuleRef)
    return counts


# --- Baseline: Python re, one pattern per list, rule by rule -----------------------------------


@dataclass(frozen=True, slots=True)
class NaiveRule:
    """A rule as a naive tool runs it: every pattern in ``required`` must search true in the
    lower-cased text of the rule's fields, ``excluded`` must not."""

    name: str
    fields: tuple[str, ...]
    required: tuple[re.Pattern[str], ...]
    excluded: re.Pattern[str] | None
    sources: frozenset[str] | None


_APOSTROPHE = re.compile("['’]")


def term_regex(term: str) -> str | None:
    """The naive regex of a term: ``\\b`` word boundaries, words separated by white space,
    ``'`` or ``’`` for an apostrophe, ``\\w*`` for a final ``*``; a ``/regex/`` as it is (None
    if Python's re cannot compile it: RE2's ``\\pL``)."""
    if term.startswith("/") and term.rfind("/") > 0:
        end = term.rfind("/")
        source = f"(?{term[end + 1 :]}){term[1:end]}" if term[end + 1 :] else term[1:end]
        try:
            re.compile(source)
        except re.error:
            return None
        return f"(?:{source.removeprefix('(?i)')})" if "(?i)" in source else f"(?:{source})"
    words = []
    for word in term.lower().split():
        wildcard = word.endswith("*")
        escaped = _APOSTROPHE.sub("['’]", re.escape(word.rstrip("*")))
        words.append(escaped + (r"\w*" if wildcard else ""))
    return r"\b" + r"\s+".join(words) + ("" if term.endswith("*") else r"\b")


def _alternatives(conditions: Sequence[object], rules: Mapping[str, RuleConfig]) -> list[str]:
    """Regex alternatives standing for "one of these conditions" (nesting approximated: a group
    by its ``any`` or ``all`` terms, a rule reference by the referred rule's)."""
    found: list[str] = []
    for c in conditions:
        if isinstance(c, str | CaseTerm):
            pattern = term_regex(c if isinstance(c, str) else c.term)  # case ignored
            found.extend([pattern] if pattern else [])
        elif isinstance(c, Near):
            a, b = (term_regex(t if isinstance(t, str) else t.term) for t in c.near[:2])
            gap = rf"\W+(?:\w+\W+){{0,{c.within}}}?"
            if a and b:
                found.append(f"(?:{a}{gap}{b}|{b}{gap}{a})")
        elif isinstance(c, Group):
            found.extend(_alternatives(c.any or c.all, rules))
        elif isinstance(c, RuleRef):
            found.extend(_alternatives(rules[c.rule].any or rules[c.rule].all, rules))
    return found


def _compiled(alternatives: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(alternatives) or r"(?!)", re.IGNORECASE)


def naive_rules(rules: Sequence[RuleConfig], tags: Mapping[str, Sequence[str]]) -> list[NaiveRule]:
    by_name = {rule.name: rule for rule in rules}
    compiled: list[NaiveRule] = []
    for rule in rules:
        required = [_alternatives(rule.any, by_name)] if rule.any else []
        excluded = _alternatives(rule.none, by_name)
        for c in rule.all:
            if isinstance(c, Group):
                required.extend([_alternatives(c.any, by_name)] if c.any else [])
                required.extend(_alternatives([t], by_name) for t in c.all)
                excluded.extend(_alternatives(c.none, by_name))
            else:
                required.append(_alternatives([c], by_name))
        sources = None
        if rule.sources is not None or rule.tags is not None:
            tagged = {s for s, its in tags.items() if set(rule.tags or ()) & set(its)}
            sources = frozenset(rule.sources or ()) | tagged
        compiled.append(NaiveRule(
            rule.name, tuple(f for f in FIELDS if f in rule.fields),
            tuple(map(_compiled, required)), _compiled(excluded) if excluded else None, sources,
        ))  # fmt: skip
    return compiled


def naive_match(rules: Sequence[NaiveRule], item: Item) -> list[str]:
    """The names of the rules that fire on ``item``, rule by rule, pattern by pattern."""
    lowered = {"title": item.title.lower(), "summary": item.summary.lower(),
               "content": item.content.lower()}  # fmt: skip
    every = "\n".join(lowered.values())
    fired: list[str] = []
    for rule in rules:
        if rule.sources is not None and item.source not in rule.sources:
            continue
        text = every if len(rule.fields) == 3 else "\n".join(lowered[f] for f in rule.fields)
        if all(p.search(text) for p in rule.required) and not (
            rule.excluded is not None and rule.excluded.search(text)
        ):
            fired.append(rule.name)
    return fired


# --- Measurement -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    wall: float  # items per second of wall time, best of the runs
    cpu: float  # items per second of this process's CPU time, best of the runs
    ratio: float  # CPU time / wall time of the best wall run (below 1: the core was shared)

    @property
    def us(self) -> float:
        """CPU µs per item."""
        return 1e6 / self.cpu


def breakdown(
    runs: Mapping[str, Callable[[Item], object]], items: Sequence[Item], repeats: int = 3
) -> dict[str, float]:
    """Wall µs per item of each of ``runs``, item by item: each item goes through every
    function in turn, ``repeats`` times, and the fastest time of each counts. The parts of one
    item's time are so measured under the same conditions, and a neighbour's burst or a
    preemption spoils one repetition, not the figure."""
    totals = dict.fromkeys(runs, 0.0)
    clock = time.perf_counter
    for item in items:
        best = dict.fromkeys(runs, math.inf)
        for _ in range(repeats):
            for name, run in runs.items():
                started = clock()
                run(item)
                best[name] = min(best[name], clock() - started)
        for name, seconds in best.items():
            totals[name] += seconds
    return {name: total / len(items) * 1e6 for name, total in totals.items()}


def throughput(run: Callable[[Item], object], items: Sequence[Item], seconds: float) -> Timing:
    """Items per second of ``run``: best of 3 runs, each repeating ``items`` for at least
    ``seconds`` (calibrated on one pass), by wall time and by CPU time."""
    started = time.perf_counter()
    for item in items:
        run(item)
    repeats = max(1, math.ceil(seconds / max(time.perf_counter() - started, 1e-9)))
    runs: list[tuple[float, float]] = []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            for item in items:
                run(item)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    count = repeats * len(items)
    wall, cpu = min(runs)
    return Timing(count / wall, count / max(min(c for _, c in runs), 1e-9), cpu / wall)


def sample_for(run: Callable[[Item], object], items: Sequence[Item], seconds: float) -> int:
    """How many of ``items`` one run of ``seconds`` covers, timed on the first 20 (at least
    50, or all the items when they fit)."""
    started = time.process_time()
    for item in items[:20]:
        run(item)
    per_item = (time.process_time() - started) / len(items[:20])
    return min(len(items), max(50, math.ceil(seconds / max(per_item, 1e-9))))


def fold_item(item: Item) -> None:
    """What Matcher.match does first: fold every non-empty field into the text it scans."""
    for text in (item.title, item.summary, item.content):
        if text:
            FieldText.of(text)


@dataclass(frozen=True, slots=True)
class Row:
    size: str
    compile_s: float
    monitor: Timing
    parts: dict[str, float]  # µs per item of folding, Matcher.terms and Matcher.match
    baseline: Timing
    sample: int  # items the baseline ran on
    match_rate: float
    mean_matches: float
    naive_rate: float
    naive_mean: float
    agreement: tuple[int, int, int]  # (rule, item) pairs: both, monitor only, re only
    skipped: int  # regex terms the baseline could not compile


def _rate(results: Sequence[Sequence[object]]) -> tuple[float, float]:
    return (sum(1 for r in results if r) / len(results), sum(map(len, results)) / len(results))


def measure(name: str, rules: Sequence[RuleConfig], items: Sequence[Item],
            tags: Mapping[str, Sequence[str]], seconds: float) -> Row:  # fmt: skip
    started = time.perf_counter()
    matcher = Matcher(rules, tags=tags)
    compile_s = time.perf_counter() - started
    results = [[m.rule for m in matcher.match(item)] for item in items]  # also warms caches
    monitor = throughput(matcher.match, items, seconds)
    runs: dict[str, Callable[[Item], object]] = {
        "fold": fold_item,
        "terms": matcher.terms,
        "match": matcher.match,
    }
    parts = breakdown(runs, items[:BREAKDOWN_ITEMS])
    naive = naive_rules(rules, tags)

    def baseline_match(item: Item) -> list[str]:
        return naive_match(naive, item)

    sample = sample_for(baseline_match, items, seconds)
    naive_results = [baseline_match(item) for item in items[:sample]]
    baseline = throughput(baseline_match, items[:sample], seconds)
    pairs = [(set(a), set(b)) for a, b in zip(results, naive_results, strict=False)]
    agreement = (sum(len(a & b) for a, b in pairs), sum(len(a - b) for a, b in pairs),
                 sum(len(b - a) for a, b in pairs))  # fmt: skip
    conditions = _walk([c for r in rules for c in (*r.any, *r.all, *r.none)])
    skipped = sum(1 for c in conditions if isinstance(c, str) and c.startswith("/")
                  and term_regex(c) is None)  # fmt: skip
    return Row(name, compile_s, monitor, parts, baseline, sample, *_rate(results),
               *_rate(naive_results), agreement, skipped)  # fmt: skip


def compiled() -> str:
    """Whether monitor/rules runs compiled (``make install`` builds it with mypyc)."""
    where = str(sys.modules[Matcher.__module__].__file__)
    if where.endswith(EXTENSION_SUFFIXES[0]):
        return f"compiled with mypyc ({Path(where).name})"
    return "plain Python (not compiled: run `make install`; about 1.4 times slower)"


def pin(cpu: int) -> str:
    """Pin this process to one core if the system allows it; say what happened."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError as exc:
        return f"not pinned ({exc})"
    return f"pinned to core {cpu} of {os.cpu_count()}"


def profile(rules: Sequence[RuleConfig], items: Sequence[Item],
            tags: Mapping[str, Sequence[str]], seconds: float) -> None:  # fmt: skip
    """cProfile of Matcher.match on ``rules``: the functions by own and cumulative time."""
    matcher = Matcher(rules, tags=tags)
    for item in items:
        matcher.match(item)
    profiler = cProfile.Profile()
    deadline = time.perf_counter() + seconds
    profiler.enable()
    while time.perf_counter() < deadline:
        for item in items:
            matcher.match(item)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(15)
    print(f"\nprofile of Matcher.match at {len(rules):,} rules (cProfile slows it down):")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


def goals(rows: Sequence[Row]) -> int:
    """Print the goal lines; 0 if both are met, 1 if one is missed, 2 if one is not measured.
    A goal is judged on items per CPU second: what one core does when it is not shared."""
    measured = {row.size: row for row in rows}
    status = 0
    for size, goal in GOALS.items():
        row = measured.get(f"{size:,}")
        if row is None:
            print(f"goal >= {goal:,.0f} items/s at {size:,} rules: not measured")
            status = max(status, 2)
            continue
        met = row.monitor.cpu >= goal
        print(f"goal >= {goal:,.0f} items/s at {size:,} rules: {row.monitor.cpu:,.0f} items per "
              f"CPU second ({row.monitor.cpu / goal:.0%} of the goal; {row.monitor.wall:,.0f} by "
              f"wall time): {'met' if met else 'NOT met'}")  # fmt: skip
        status = status if met else max(status, 1)
    return status


def _times(rate: float) -> str:
    return f"{rate:,.0f}×" if rate >= 10 else f"{rate:.2f}×"


def table(rows: Sequence[Row], count: int) -> None:
    """The figures as a Markdown table (for bench/README.md)."""
    head = ("rules", "compile s", "items/s (monitor)", "items/s (re per rule)", "speed-up",
            "match rate (matches/item)", "re match rate", "cpu/wall")  # fmt: skip
    lines = [head, tuple("---" for _ in head)]
    for r in rows:
        sampled = "" if r.sample == count else f" ({r.sample} items)"
        lines.append((
            r.size, f"{r.compile_s:.3f}", f"{r.monitor.cpu:,.0f}",
            f"{r.baseline.cpu:,.0f}{sampled}", _times(r.monitor.cpu / r.baseline.cpu),
            f"{r.match_rate:.1%} ({r.mean_matches:.2f})",
            f"{r.naive_rate:.1%} ({r.naive_mean:.2f})", f"{r.monitor.ratio:.2f}",
        ))  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for line in lines:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |")


def describe(row: Row, rules: Sequence[RuleConfig]) -> None:
    """What the rules are made of, where one item's time goes, how far re agrees."""
    m = mix(rules)
    print(f"{row.size} rules: {m['terms']:,} terms, {m['wildcard']} wildcards, "
          f"{m['near']} near, {m['case']} case-sensitive, {m['regex']} regex, "
          f"{m['group']} groups, {m['ref']} rule references, {m['none']} rules with none, "
          f"{m['scoped']} scoped")  # fmt: skip
    fold, scan, match = row.parts["fold"], row.parts["terms"], row.parts["match"]
    print(f"  µs per item (first {BREAKDOWN_ITEMS:,} items): {match:.0f} match = {fold:.0f} "
          f"fold + {scan - fold:.0f} term search + {match - scan:.0f} rule evaluation and "
          f"explanations; {row.monitor.us:.0f} CPU µs per item over all items "
          f"({row.monitor.wall:,.0f} items/s by wall time)")  # fmt: skip
    both, monitor_only, re_only = row.agreement
    print(f"  on the {row.sample} items both ran, (rule, item) pairs that fired: both "
          f"{both:,}, monitor only {monitor_only:,}, re only {re_only:,}"
          + (f"; {row.skipped} regex terms re cannot compile" if row.skipped else ""))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000, help="items to generate (3000)")
    parser.add_argument("--sizes", default=SIZES, help=f"rule set sizes ({SIZES}); user: "
                        "the rules of config/monitor.yaml")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum length of a run")
    parser.add_argument("--cpu", type=int, default=0, help="the core to pin to (0)")
    parser.add_argument("--profile", type=int, metavar="SIZE", help="cProfile at SIZE rules")
    parser.add_argument(
        "--arabic", type=float, metavar="SHARE",
        help="share of Arabic items, the Arabic set's rules added to every set (0: rules only)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    print(f"{pin(args.cpu)}; Python {sys.version.split()[0]}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"matcher: {compiled()}")
    _, tags = load_config()
    items = make_items(args.items, sources=list(tags), arabic=args.arabic or 0.0)
    extra = []
    if args.arabic is not None:
        extra = [RuleConfig.model_validate(rule) for rule in arabic_rules()]
        arabic = sum(any("\u0600" <= c <= "\u06ff" for c in item.title) for item in items)
        print(f"{arabic} Arabic items ({len(arabic_titles())} headlines of the labelled Arabic "
              f"sets); {len(extra)} Arabic rules added to each rule set")  # fmt: skip
    titles = sum(len(i.title) for i in items) / len(items)
    summaries = sum(len(i.summary) for i in items) / len(items)
    print(f"{len(items)} items ({len(labelled_items())} from {LABELLED.name}, the rest generated):"
          f" title {titles:.0f} characters, summary {summaries:.0f} on average; "
          f"rule vocabulary {len(vocabulary()):,} terms")  # fmt: skip
    for item in items[40:42]:
        print(f"  e.g. {item.title}\n       {item.summary[:150]}…")
    print()
    rows: list[Row] = []
    for size in args.sizes.split(","):
        rules = (user_rules() if size == "user" else make_rules(int(size))) + extra
        rows.append(measure(f"{len(rules):,}", rules, items, tags, args.seconds))
        describe(rows[-1], rules)
    folding = throughput(fold_item, items, args.seconds)
    print(
        f"\nfold only (title and summary): {folding.cpu:,.0f} items per CPU second "
        f"({folding.us:.1f} µs per item; {folding.wall:,.0f} items/s by wall time)"
    )
    print("items/s: per CPU second of this process, best of 3 runs (cpu/wall below 1: the core "
          "was shared)\n")  # fmt: skip
    table(rows, len(items))
    print()
    status = goals(rows)
    if args.profile:
        profile(make_rules(args.profile) + extra, items, tags, args.seconds * 3)
    return status


if __name__ == "__main__":
    sys.exit(main())
