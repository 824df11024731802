# Derives the rows of cpu_vcpu_watts.csv from a checkout of cloud-carbon-footprint/cloud-carbon-coefficients
# (Apache-2.0): run it inside that checkout's data/ folder and paste the output below the comment header.
import csv,re,statistics as st
rows=list(csv.DictReader(open('SPECpower-full-results.csv',encoding='utf-8',errors='replace')))
def f(x):
    try: return float(x)
    except: return None
def q(xs,p):
    xs=sorted(xs); k=(len(xs)-1)*p; i=int(k); return xs[i]+(xs[min(i+1,len(xs)-1)]-xs[i])*(k-i)
spec=[('Zen','amd','amd-epyc-gen1','EPYC 1st Gen'),('Zen 2','amd','amd-epyc-gen2','EPYC 2nd Gen'),('Zen 3','amd','amd-epyc-gen3','EPYC 3rd Gen'),
('Sandy Bridge','intel','intel-sandybridge','Sandy Bridge'),('Ivy Bridge','intel','intel-ivybridge','Ivy Bridge'),('Haswell','intel','intel-haswell','Haswell'),
('Broadwell','intel','intel-broadwell','Broadwell'),('Skylake','intel','intel-skylake','Skylake'),('Cascade Lake','intel','intel-cascadelake','Cascade Lake'),('Coffee Lake','intel','intel-coffeelake','Coffee Lake')]
print('microarchitecture,vendor,min_w,max_w,min_w_p10,max_w_p10,min_w_p90,max_w_p90,servers,ccf_architecture')
for ua,v,name,ccf in spec:
    pats=[next(csv.reader([l]))[0] for l in open(name+'.csv') if l.strip()]
    rx=re.compile('|'.join(rf'(\b{s}$)' for s in pats),re.I)
    idle=[];full=[]
    for r in rows:
        if rx.search(r['CPU Description']):
            t=f(r['Total Threads']); a=f(r['avg. watts @ active idle']); b=f(r['avg. watts @ 100%'])
            if t and a is not None: idle.append(a/t)
            if t and b is not None: full.append(b/t)
    print(f"{ua},{v},{st.mean(idle):.4f},{st.mean(full):.4f},{q(idle,.1):.4f},{q(full,.1):.4f},{q(idle,.9):.4f},{q(full,.9):.4f},{len(idle)},{ccf}")
