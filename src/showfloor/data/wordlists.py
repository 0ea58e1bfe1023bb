"""Word lists for the demo dataset (kept in the module so generating needs no downloads)."""

from __future__ import annotations

# (city, region, country, latitude, longitude)
CITIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("Las Vegas", "Nevada", "United States", "36.1699", "-115.1398"),
    ("Chicago", "Illinois", "United States", "41.8781", "-87.6298"),
    ("New York", "New York", "United States", "40.7128", "-74.0060"),
    ("San Francisco", "California", "United States", "37.7749", "-122.4194"),
    ("Austin", "Texas", "United States", "30.2672", "-97.7431"),
    ("Orlando", "Florida", "United States", "28.5384", "-81.3789"),
    ("Boston", "Massachusetts", "United States", "42.3601", "-71.0589"),
    ("Toronto", "Ontario", "Canada", "43.6532", "-79.3832"),
    ("Vancouver", "British Columbia", "Canada", "49.2827", "-123.1207"),
    ("London", "England", "United Kingdom", "51.5072", "-0.1276"),
    ("Manchester", "England", "United Kingdom", "53.4808", "-2.2426"),
    ("Berlin", "Berlin", "Germany", "52.5200", "13.4050"),
    ("Munich", "Bavaria", "Germany", "48.1351", "11.5820"),
    ("Frankfurt", "Hesse", "Germany", "50.1109", "8.6821"),
    ("Cologne", "North Rhine-Westphalia", "Germany", "50.9375", "6.9603"),
    ("Paris", "Île-de-France", "France", "48.8566", "2.3522"),
    ("Lyon", "Auvergne-Rhône-Alpes", "France", "45.7640", "4.8357"),
    ("Amsterdam", "North Holland", "Netherlands", "52.3676", "4.9041"),
    ("Barcelona", "Catalonia", "Spain", "41.3874", "2.1686"),
    ("Madrid", "Community of Madrid", "Spain", "40.4168", "-3.7038"),
    ("Milan", "Lombardy", "Italy", "45.4642", "9.1900"),
    ("Stockholm", "Stockholm County", "Sweden", "59.3293", "18.0686"),
    ("Copenhagen", "Capital Region", "Denmark", "55.6761", "12.5683"),
    ("Dubai", "Dubai", "United Arab Emirates", "25.2048", "55.2708"),
    ("Singapore", "Central Region", "Singapore", "1.3521", "103.8198"),
    ("Tokyo", "Tokyo", "Japan", "35.6762", "139.6503"),
    ("Seoul", "Seoul", "South Korea", "37.5665", "126.9780"),
    ("Shanghai", "Shanghai", "China", "31.2304", "121.4737"),
    ("Sydney", "New South Wales", "Australia", "-33.8688", "151.2093"),
    ("Melbourne", "Victoria", "Australia", "-37.8136", "144.9631"),
    ("São Paulo", "São Paulo", "Brazil", "-23.5505", "-46.6333"),
    ("Mexico City", "CDMX", "Mexico", "19.4326", "-99.1332"),
)

VENUE_KINDS = (
    "Convention Center",
    "Expo Center",
    "Exhibition Centre",
    "Messe",
    "Conference Hall",
    "Congress Center",
)

EVENT_THEMES = (
    "Connected Retail",
    "Smart Manufacturing",
    "Cloud Infrastructure",
    "Cybersecurity",
    "Fintech",
    "Digital Health",
    "Supply Chain",
    "Renewable Energy",
    "Food & Beverage",
    "Packaging",
    "Automotive Tech",
    "AI & Data",
    "Marketing Technology",
    "Construction Tech",
    "Logistics",
    "Hospitality",
    "Medical Devices",
    "EdTech",
    "Robotics",
    "Industrial IoT",
    "Beauty & Wellness",
    "Sports Business",
    "Aerospace",
    "Agritech",
    "Telecom",
    "Pet Industry",
)

EVENT_SUFFIXES = ("Summit", "Expo", "Conference", "World", "Forum", "Show", "Congress", "Week", "Live")

EVENT_TYPES = ("conference_led", "expo_led", "In-person")
QUALITY_TIERS = ("Verified", "Standard")

# (code, name, description): event categories, returned as {id, code, name, description, confidence}.
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("retail", "Retail", "Retail, e-commerce and store technology"),
    ("manufacturing", "Manufacturing", "Factories, automation and production"),
    ("software", "Software", "Software, SaaS and developer tools"),
    ("security", "Security", "Information and physical security"),
    ("finance", "Finance", "Banking, payments and insurance"),
    ("healthcare", "Healthcare", "Hospitals, medtech and pharma"),
    ("logistics", "Logistics", "Shipping, warehousing and supply chain"),
    ("energy", "Energy", "Power, renewables and utilities"),
    ("food", "Food & Beverage", "Food production, drinks and food service"),
    ("marketing", "Marketing", "Advertising, marketing and media"),
    ("mobility", "Mobility", "Automotive and transport"),
    ("construction", "Construction", "Building, architecture and real estate"),
    ("education", "Education", "Schools, universities and training"),
    ("telecom", "Telecommunications", "Networks, carriers and devices"),
)

TOPICS = (
    "artificial intelligence",
    "automation",
    "sustainability",
    "omnichannel",
    "data privacy",
    "edge computing",
    "payments",
    "customer experience",
    "robotics",
    "computer vision",
    "5G",
    "digital twins",
    "cloud migration",
    "zero trust",
    "last-mile delivery",
    "loyalty programs",
    "predictive maintenance",
    "generative AI",
    "ESG reporting",
    "workforce training",
)

COMPANY_PREFIXES = (
    "Acme", "Blue", "Bright", "Cedar", "Clear", "Core", "Crest", "Delta", "Echo", "Ever", "Falcon",
    "First", "Fusion", "Granite", "Green", "Harbor", "Helix", "Horizon", "Iron", "Keystone", "Lumen",
    "Maple", "Meridian", "Nimbus", "North", "Nova", "Oak", "Omni", "Orbit", "Peak", "Pine", "Pioneer",
    "Prism", "Quantum", "Red", "Ridge", "River", "Sage", "Silver", "Sky", "Solid", "Spark", "Stone",
    "Summit", "Sun", "Swift", "Terra", "True", "Union", "Vantage", "Vertex", "Vista", "Wave", "Zen",
)  # fmt: skip
COMPANY_CORES = (
    "Logic", "Works", "Systems", "Labs", "Data", "Point", "Bridge", "Path", "Stack", "Grid", "Scale",
    "Link", "Flow", "Wise", "Ware", "Tech", "Metrics", "Cloud", "Sense", "Forge", "Mind", "Shift",
    "Base", "Field", "Line", "Gate", "Hub", "Loop", "Signal", "Vision",
)  # fmt: skip
COMPANY_SUFFIXES = ("Inc.", "Ltd", "GmbH", "LLC", "Group", "Co.", "AG", "SA", "Corp", "")

INDUSTRIES = (
    "Computer Software",
    "Information Technology & Services",
    "Retail",
    "Consumer Goods",
    "Food Production",
    "Machinery",
    "Logistics & Supply Chain",
    "Financial Services",
    "Hospital & Health Care",
    "Medical Devices",
    "Renewables & Environment",
    "Automotive",
    "Marketing & Advertising",
    "Construction",
    "Telecommunications",
    "Packaging & Containers",
    "Electrical & Electronic Manufacturing",
    "Security & Investigations",
)

TECH_STACKS = (
    "Salesforce", "HubSpot", "Marketo", "SAP", "Oracle", "Microsoft Dynamics", "AWS", "Google Cloud",
    "Azure", "Snowflake", "Shopify", "Magento", "Zendesk", "Intercom", "Slack", "Stripe", "Segment",
    "Tableau", "Looker", "Workday", "ServiceNow", "Kubernetes", "Datadog", "Okta",
)  # fmt: skip

FUNDING_ROUNDS = ("Seed", "Series A", "Series B", "Series C", "Private Equity", "Public", None)

FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Daniel", "Karen",
    "Matthew", "Lisa", "Anthony", "Nancy", "Mark", "Sandra", "Paul", "Ashley", "Steven", "Emily",
    "Andrew", "Michelle", "Kenji", "Yuki", "Wei", "Mei", "Arjun", "Priya", "Lars", "Ingrid", "Luca",
    "Giulia", "Pierre", "Camille", "Hans", "Anna", "Carlos", "Sofia", "Mateo", "Lucia", "Omar", "Layla",
    "Noah", "Olivia", "Liam", "Emma", "Ethan", "Ava", "Lucas", "Mia", "Jonas", "Elena", "Tom", "Nina",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
    "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Young", "King",
    "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Tanaka", "Sato", "Wang", "Li", "Chen",
    "Patel", "Sharma", "Müller", "Schmidt", "Schneider", "Rossi", "Bianchi", "Dubois", "Laurent",
    "Andersson", "Nilsson", "Jensen", "Novak", "Kowalski", "Silva", "Santos", "Haddad", "Kim", "Park",
    "O'Brien", "Murphy", "Fischer", "Weber", "Costa", "Moreau",
)  # fmt: skip

# department -> titles within it; seniority is derived from the title's first word.
DEPARTMENT_TITLES: dict[str, tuple[str, ...]] = {
    "marketing": ("Marketing Manager", "VP Marketing", "Director of Marketing", "Marketing Specialist"),
    "sales": ("Account Executive", "VP Sales", "Sales Director", "Sales Manager", "SDR"),
    "engineering": ("Software Engineer", "VP Engineering", "Engineering Manager", "Senior Engineer"),
    "product": ("Product Manager", "Director of Product", "Head of Product", "Senior Product Manager"),
    "operations": ("Operations Manager", "COO", "Director of Operations", "Operations Analyst"),
    "finance": ("CFO", "Finance Manager", "Controller", "Financial Analyst"),
    "executive": ("CEO", "Founder", "Managing Director", "President"),
    "business development": ("Business Development Manager", "Head of Partnerships", "BD Director"),
}

SENIORITY_BY_TITLE_WORD: dict[str, str] = {
    "CEO": "c_suite",
    "COO": "c_suite",
    "CFO": "c_suite",
    "Founder": "founder",
    "President": "c_suite",
    "Managing": "director",
    "VP": "vp",
    "Director": "director",
    "Head": "head",
    "BD": "director",
    "Sales": "director",
    "Senior": "senior",
    "Controller": "manager",
}

VISITOR_TITLES = (
    "Buyer",
    "Procurement Manager",
    "Store Manager",
    "IT Manager",
    "Category Manager",
    "Consultant",
    "Owner",
    "Purchasing Director",
)

ACTIVITY_LEVELS = ("high", "medium", "low", None)
